import ArgumentParser

/// The `seafold` command line: runs the paper's experiment locally or across ZeroMQ workers.
struct Seafold: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seafold",
        abstract: "Explainable fine-tuning analysis of SAS imagery (Walker et al.), as a distributed cross-validation job.",
        version: SeafoldVersion.string,
        subcommands: [
            // One line per command group; each lives in its own file under Commands/.
            RunCommand.self,
            CoordinatorCommand.self,
            WorkerCommand.self,
            StatusCommand.self,
            RetryCommand.self,
            InvalidateCommand.self,
            ReportCommand.self,
            ExportCommand.self,
            PlanCommand.self,
            TaskCommand.self,
            FeaturesCommand.self,
            PredictCommand.self,
            ExplainCommand.self,
            BenchCommand.self,
            KeysCommand.self,
            ClusterFakeCommand.self,
            DataCommand.self,
            ConfigCommand.self,
            GCCommand.self,
        ],
        defaultSubcommand: RunCommand.self
    )
}

/// The software version printed by `--version` and recorded in every result.
enum SeafoldVersion {
    static let string = "0.1.0"
}

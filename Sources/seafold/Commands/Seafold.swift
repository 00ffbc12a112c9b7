import ArgumentParser

/// The `seafold` command line: runs the paper's experiment locally or across ZeroMQ workers.
struct Seafold: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seafold",
        abstract: "Explainable fine-tuning analysis of SAS imagery (Walker et al.), as a distributed cross-validation job.",
        version: SeafoldVersion.string,
        subcommands: [
            // One line per command group; each lives in its own file under Commands/.
            BenchCommand.self,
            DataCommand.self,
        ]
    )
}

/// The software version printed by `--version` and recorded in every result.
enum SeafoldVersion {
    static let string = "0.1.0"
}

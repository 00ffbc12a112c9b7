import ArgumentParser
import Bench

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

/// `seafold run` is the default subcommand (bare `seafold` runs the demo), so the argument
/// parser would take a mistyped subcommand for an argument of `run` and print `run`'s usage.
/// A first argument that is not an option and not a subcommand is reported as what it is.
enum UnknownSubcommand {
    static var names: [String] { Seafold.configuration.subcommands.map { $0._commandName } + ["help"] }

    /// The message for `args` (CommandLine.arguments), or nil when they are fine.
    static func message(_ args: [String]) -> String? {
        guard args.count > 1, let first = args.dropFirst().first, !first.hasPrefix("-"), !names.contains(first) else { return nil }
        var text = "error: unknown subcommand '\(first)'."
        if let near = names.min(by: { distance($0, first) < distance($1, first) }), distance(near, first) <= 2 {
            text += " Did you mean '\(near)'?"
        }
        text += "\nsubcommands: \(names.filter { $0 != "help" }.joined(separator: ", "))\nsee `seafold --help`, or `seafold help SUBCOMMAND`\n"
        return text
    }

    /// Levenshtein distance, for the suggestion.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var prev = row[0]; row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[b.count]
    }
}

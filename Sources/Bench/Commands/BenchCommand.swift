import ArgumentParser

/// `seafold bench …`: benchmarks that print medians and a same-run sgemm figure. The CLI
/// registers this one command; every benchmark is a subcommand of it.
public struct BenchCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure speed and memory (medians; compare only within one run).",
        subcommands: [
            // One line per benchmark; each lives in its own file.
            BenchClusterCommand.self,
            BenchLimeCommand.self,
            BenchEngineCommand.self,
            BenchConvCommand.self,
            BenchDataCommand.self,
            BenchRunCommand.self,
            BenchPaperRunCommand.self,
        ]
    )
}

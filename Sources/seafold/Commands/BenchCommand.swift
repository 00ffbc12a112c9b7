import ArgumentParser

/// `seafold bench …`: benchmarks that print medians and a same-run sgemm figure.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
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

import ArgumentParser
import Cluster
import Foundation
import Pipeline
import Report

/// `seafold run`: the whole experiment on this machine. With no arguments it runs the `demo`
/// preset: synthetic data, a coordinator and one local worker process per core over ZeroMQ on
/// loopback, every task, then the report and the tables on the terminal. `--local` runs every
/// task in this one process instead (no sockets).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run an experiment end to end on this machine (default: the demo preset).")

    @OptionGroup var source: ExperimentSource

    @Option(help: "Local worker processes (default: one per core).")
    var workers: Int?

    @Option(help: "BLAS threads per worker (default: cores / workers).")
    var threads: Int?

    @Flag(help: "Run every task in this process, without coordinator and workers.")
    var local = false

    @Flag(help: "Print the results as JSON instead of Markdown tables.")
    var json = false

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let (text, base) = try source.yaml()
        let runDir = try source.runDirectory(for: text, base: base)
        let setup = try ExperimentSetup.prepare(yaml: text, runDirectory: runDir, baseDirectory: base, progress: { Console.status($0) })
        Console.endStatus()
        let disk = try setup.checkDisk(workers: local ? 1 : workers ?? ProcessInfo.processInfo.activeProcessorCount, workerCachesInRunDirectory: !local)
        for w in setup.warnings { Console.warn(w) }
        Console.info("seafold: \(setup.config.name): \(setup.graph.tasks.count) tasks in \(runDir.path)")
        let results: RunResults
        if local {
            let exec = LocalExecutor(runDirectory: runDir)
            exec.onProgress = { task, f, msg in Console.status(String(format: "[%3.0f%%] ", f * 100) + msg) }
            let (done, missing) = exec.run(setup.graph)
            Console.endStatus()
            for m in missing { Console.warn("\(m.task.label): \(m.reason)") }
            results = setup.results(completed: done, incomplete: missing, timeline: [], softwareVersion: SeafoldVersion.string)
        } else {
            results = try runDistributed(setup, checkpointRoom: disk.checkpointRoomBytes)
        }
        try ReportCommand.write(results, runDirectory: runDir, json: json)
    }

    private func runDistributed(_ setup: ExperimentSetup, checkpointRoom: Int64) throws -> RunResults {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let n = workers ?? max(1, cores)
        let t = threads ?? max(1, cores / n)
        var options = CoordinatorOptions(codeVersion: SeafoldVersion.string)
        options.printProgress = Console.isTTY
        options.checkpointRoomBytes = checkpointRoom
        let coordinator = try Coordinator(runDirectory: setup.runDirectory, bind: "tcp://127.0.0.1:*", options: options)
        try coordinator.submit(try ClusterGlue.descriptors(for: setup, coordinator: coordinator))
        let logs = setup.runDirectory.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        var procs: [Process] = []
        for i in 0..<n {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CommandLine.executablePath)
            p.arguments = ["worker", "--connect", coordinator.endpoint, "--threads", String(t), "--name", "local-\(i + 1)",
                           "--cache", setup.runDirectory.appendingPathComponent("cache/local-\(i + 1)").path]
            let log = logs.appendingPathComponent("worker-\(i + 1).log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let h = try FileHandle(forWritingTo: log)
            p.standardOutput = h
            p.standardError = h
            try p.run()
            procs.append(p)
        }
        defer {
            for p in procs where p.isRunning { p.terminate() }
            for p in procs { p.waitUntilExit() }
        }
        Console.info("seafold: coordinator at \(coordinator.endpoint), \(n) local workers × \(t) BLAS threads (logs in \(logs.path))")
        let status = try coordinator.run(until: .allSettled)
        Console.endStatus()
        if status.failed > 0 { Console.warn("\(status.failed) tasks failed; the report shows what is missing (retry with `seafold retry --run-dir \(setup.runDirectory.path) --failed`)") }
        return try ClusterGlue.results(setup: setup, ledger: coordinator.ledger, store: coordinator.store)
    }
}

extension CommandLine {
    /// This executable, for spawning workers (the BLAS re-exec keeps the same binary).
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

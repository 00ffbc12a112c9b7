import ArgumentParser
import Cluster
import Foundation
import Pipeline
import Report
import Terminal

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

    @Option(help: "Times a local worker process that dies is started again before the run fails.")
    var maxWorkerRestarts: Int = 3

    @Option(help: "Seconds between progress summary lines when stderr is not a terminal (task events are logged as they happen).")
    var progressInterval: Double = 30

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if !(progressInterval > 0) { throw ValidationError("--progress-interval must be more than 0 seconds") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if maxWorkerRestarts < 0 { throw ValidationError("--max-worker-restarts must be at least 0") }
    }

    func run() throws {
        try logging.bootstrap()
        let loaded = try source.load()
        let runDir = source.runDirectory(for: loaded.config)
        let setup = try ExperimentSetup.prepare(config: loaded.config, yaml: loaded.text, runDirectory: runDir, progress: { Console.status($0) })
        Console.endStatus()
        let disk = try setup.checkDisk(workers: local ? 1 : workers ?? ProcessInfo.processInfo.activeProcessorCount, workerCachesInRunDirectory: !local)
        for w in setup.warnings { Console.warn(w) }
        Console.info("seafold: \(setup.config.name): \(setup.graph.tasks.count) tasks in \(runDir.path)")
        let results: RunResults
        var failed: [String] = []
        if local {
            let exec = LocalExecutor(runDirectory: runDir)
            let tracker = LocalRunTracker(runDirectory: runDir, graph: setup.graph, reporter: makeReporter())
            exec.onProgress = { task, f, msg in tracker.progress(task, f, msg) }
            exec.onTaskEvent = { task, event in tracker.event(task, event) }
            let (done, missing) = exec.run(setup.graph)
            tracker.finish(incomplete: missing)
            for m in missing { Console.warn("\(m.task.label): \(m.reason)") }
            failed = missing.map { "\($0.task.label) (\($0.task.id)): \($0.reason)" }
            results = setup.results(completed: done, incomplete: missing, timeline: [], softwareVersion: SeafoldVersion.string)
        } else {
            (results, failed) = try runDistributed(setup, disk: disk)
        }
        try ReportCommand.write(results, runDirectory: runDir, json: json)
        // A run with gaps in its tables is not a success, whatever the report shows.
        if !failed.isEmpty {
            Console.warn("\(failed.count) tasks did not complete:")
            for f in failed { Console.info("  \(f)") }
            if !local { Console.info("retry them with `seafold retry --run-dir \(runDir.path) --failed`, then run this command again") }
            throw ExitCode(3)
        }
    }

    private func makeReporter() -> ProgressReporter {
        ProgressReporter(interval: progressInterval, terminal: Console.isTTY && !LogBootstrap.json)
    }

    /// Coordinator on a background thread, local workers supervised from the main thread (see
    /// `LocalWorkers`); every peer authenticates with keys made for this run only.
    private func runDistributed(_ setup: ExperimentSetup, disk: DiskBudget) throws -> (RunResults, failed: [String]) {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let n = workers ?? max(1, cores)
        let t = threads ?? max(1, cores / n)
        // Loopback TCP is open to every local user: without keys any process could send
        // results (a forged DONE went into the tables). Keys made here live only as long as
        // this run, in an owner-only directory.
        let keyDir = try RunKeys.ephemeral(workerName: "local")
        defer { try? FileManager.default.removeItem(at: keyDir) }
        var options = CoordinatorOptions(codeVersion: SeafoldVersion.string)
        // Progress comes from the ledger (ProgressReporter), on stderr.
        options.printProgress = false
        options.checkpointRoomBytes = disk.checkpointRoomBytes
        options.budgetBytes = disk.budgetBytes
        options.curve = try KeyFiles.load(directory: keyDir, name: "coordinator")
        options.allowedKeysDirectory = keyDir.appendingPathComponent("workers")
        let coordinator = try Coordinator(runDirectory: setup.runDirectory, bind: "tcp://127.0.0.1:*", options: options)
        try coordinator.submit(try ClusterGlue.descriptors(for: setup, coordinator: coordinator))
        let logs = setup.runDirectory.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let me = getpid()
        let pool = LocalWorkers(count: n, maxRestarts: maxWorkerRestarts) { i in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CommandLine.executablePath)
            p.arguments = ["worker", "--connect", coordinator.endpoint, "--threads", String(t), "--name", "local", "--host", "local-\(i + 1)",
                           "--keys", keyDir.path, "--parent-pid", String(me)] + logging.forwarded + [
                           "--cache", setup.runDirectory.appendingPathComponent("cache/local-\(i + 1)").path]
            let log = logs.appendingPathComponent("worker-\(i + 1).log")
            if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
            let h = try FileHandle(forWritingTo: log)
            h.seekToEndOfFile()
            p.standardOutput = h
            p.standardError = h
            return p
        }
        try pool.startAll()
        defer { pool.terminateAll() }
        Console.info("seafold: coordinator at \(coordinator.endpoint), \(n) local workers × \(t) BLAS threads (logs in \(logs.path))")
        let stopping = StopFlag()
        installStopHandler { stopping.set(); coordinator.stop() }
        let outcome = Box<Result<RunStatus, Error>>()
        let finished = DispatchSemaphore(value: 0)
        let progress = makeReporter()
        progress.startTicking { TaskTable.snapshot(coordinator.ledger) }
        let serving = Thread { outcome.value = Result { try coordinator.run(until: .allSettled) }; finished.signal() }
        serving.name = "seafold-coordinator"
        serving.start()
        var gaveUp: String?
        while finished.wait(timeout: .now() + 0.2) == .timedOut {
            if gaveUp == nil, let why = pool.supervise() { gaveUp = why; coordinator.stop() }
        }
        let status = try outcome.value!.get()
        progress.finish(TaskTable.snapshot(coordinator.ledger)?.rows)
        if stopping.isSet {
            throw RunStopped(message: "stopped by a signal; the local workers were stopped too. Results so far are in the ledger: run the same command again to resume")
        }
        if let gaveUp { throw RunStopped(message: gaveUp) }
        var failed: [String] = []
        if status.failed > 0 {
            for t in try coordinator.ledger.tasks() where t.state == .failed {
                failed.append("\(t.label) (\(t.id)): \(t.lastError ?? "failed")")
            }
        }
        return (try ClusterGlue.results(plan: setup.plan, runDirectory: setup.runDirectory, ledger: coordinator.ledger, store: coordinator.store), failed)
    }
}

/// A value handed from one thread to another across a semaphore (which orders the accesses).
final class Box<T>: @unchecked Sendable { var value: T? }

/// Why `seafold run` ended early (printed as the error; exit status 1).
struct RunStopped: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

extension CommandLine {
    /// This executable, for spawning workers (the BLAS re-exec keeps the same binary).
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

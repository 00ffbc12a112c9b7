import ArgumentParser
import Cluster
import Engine
import Foundation
import Pipeline

/// `seafold coordinator`: plans the experiment, keeps the ledger, serves workers on any number
/// of machines, and writes the report when every task is settled. Started again on the same
/// run directory it resumes: done tasks stay done, in-flight tasks are re-leased.
struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "coordinator", abstract: "Serve an experiment's tasks to ZeroMQ workers.")

    @OptionGroup var source: ExperimentSource

    @Option(help: "ZeroMQ endpoint to bind, e.g. tcp://*:5555.")
    var bind: String = "tcp://127.0.0.1:5555"

    @Option(help: "CURVE key directory: coordinator.key, coordinator.pub and workers/*.pub (the allow-list).")
    var keys: String?

    @Flag(help: "Allow binding a non-loopback address without CURVE keys.")
    var insecure = false

    @Option(help: "Attempts per task before it is marked failed.")
    var maxAttempts: Int = 3

    @Option(help: "Heartbeat interval in seconds (Paranoid Pirate).")
    var heartbeat: Double = 1

    @Flag(help: "Keep serving after every task is settled (for workers joining later or retries).")
    var stay = false

    func run() throws {
        let (text, base) = try source.yaml()
        let runDir = try source.runDirectory(for: text, base: base)
        let resume = source.config == nil && FileManager.default.fileExists(atPath: runDir.appendingPathComponent("experiment.yaml").path)
        let setup = try ExperimentSetup.prepare(yaml: resume ? nil : text, runDirectory: runDir, baseDirectory: base, progress: { Console.status($0) })
        Console.endStatus()
        let disk = try setup.checkDisk(workers: nil, workerCachesInRunDirectory: false)
        for w in setup.warnings { Console.warn(w) }
        var options = CoordinatorOptions(codeVersion: SeafoldVersion.string)
        options.maxAttempts = maxAttempts
        options.heartbeatInterval = heartbeat
        options.insecure = insecure
        options.printProgress = Console.isTTY
        options.dismissWorkersWhenFinished = !stay
        options.checkpointRoomBytes = disk.checkpointRoomBytes
        if let keys {
            let dir = URL(fileURLWithPath: keys)
            options.curve = try KeyFiles.load(directory: dir, name: "coordinator")
            options.allowedKeysDirectory = dir.appendingPathComponent("workers")
        }
        let coordinator = try Coordinator(runDirectory: runDir, bind: bind, options: options)
        try coordinator.submit(try ClusterGlue.descriptors(for: setup, coordinator: coordinator))
        Console.info("seafold coordinator: \(setup.graph.tasks.count) tasks, serving at \(coordinator.endpoint), run directory \(runDir.path)")
        installStopHandler { coordinator.stop() }
        let status = try coordinator.run(until: stay ? .stopped : .allSettled)
        Console.endStatus()
        let results = try ClusterGlue.results(setup: setup, ledger: coordinator.ledger, store: coordinator.store)
        try ReportCommand.write(results, runDirectory: runDir, json: false)
        if status.failed > 0 { throw ExitCode(3) }
    }
}

/// `seafold worker`: runs tasks for a coordinator until the run is over. Any number of workers
/// on any number of machines; they may join and leave at any time.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Run tasks for a coordinator.")

    @Option(help: "Coordinator endpoint, e.g. tcp://host:5555.")
    var connect: String

    @Option(help: "BLAS threads for this worker.")
    var threads: Int = 1

    @Option(help: "Artifact cache directory (default: ~/.cache/seafold).")
    var cache: String?

    @Option(help: "CURVE key directory holding coordinator.pub and NAME.key/NAME.pub.")
    var keys: String?

    @Option(help: "Worker name (also the key file name with --keys).")
    var name: String = ProcessInfo.processInfo.hostName

    @Option(help: "Share of a task's time that checkpoint uploads to the coordinator may take (0 keeps checkpoints on this worker only, 1 uploads every one).")
    var checkpointUploadShare: Double = 0.1

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if !(checkpointUploadShare >= 0) { throw ValidationError("--checkpoint-upload-share must be 0 or more") }
    }

    func run() throws {
        BLASKernel.setThreads(threads)
        let cacheDir = cache.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/seafold/\(name)")
        var options = WorkerOptions(codeVersion: SeafoldVersion.string, cacheDirectory: cacheDir)
        options.workerID = "\(name)-\(ProcessInfo.processInfo.processIdentifier)"
        options.threads = threads
        options.checkpointUploadShare = checkpointUploadShare
        if let keys {
            let dir = URL(fileURLWithPath: keys)
            options.curve = try KeyFiles.load(directory: dir, name: name)
            options.serverPublicKey = try KeyFiles.readKey(dir.appendingPathComponent("coordinator.pub"))
        }
        let worker = try Worker(connect: connect, options: options, runner: ClusterGlue.runner(threads: threads))
        installStopHandler { worker.stop() }
        try worker.run()
    }
}

/// `seafold status --run-dir DIR`: tasks done/running/failed, each running task's progress.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a run's progress from its ledger.")

    @Option(name: .customLong("run-dir"), help: "The run directory.")
    var runDir: String

    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let dir = URL(fileURLWithPath: runDir)
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("ledger.sqlite").path) else {
            throw ValidationError("no ledger.sqlite in \(dir.path): not a distributed run directory")
        }
        let status = try Ledger(runDirectory: dir).status()
        if json { try Console.printJSON(status); return }
        print(status.summaryLine)
        for r in status.runningTasks {
            print(String(format: "  %-44@ %-14@ attempt %d  %3.0f%%  %@", r.label as NSString, r.worker as NSString, r.attempt, r.fraction * 100, r.message))
        }
        for (id, err) in status.failures.sorted(by: { $0.key < $1.key }) { print("  failed \(id.prefix(12)): \(err)") }
    }
}

/// SIGINT/SIGTERM stop the coordinator or worker cleanly (the ledger is always consistent).
func installStopHandler(_ stop: @escaping () -> Void) {
    for sig in [SIGINT, SIGTERM] {
        signal(sig, SIG_IGN)
        let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        src.setEventHandler { stop() }
        src.resume()
        StopHandlers.sources.append(src)
    }
}

enum StopHandlers { static var sources: [DispatchSourceSignal] = [] }

import ArgumentParser
import Cluster
import Engine
import Foundation
import Pipeline
import Terminal

/// `seafold coordinator`: plans the experiment, keeps the ledger, serves workers on any number
/// of machines, and writes the report when every task is settled. Started again on the same
/// run directory it resumes: done tasks stay done, in-flight tasks are re-leased.
struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "coordinator", abstract: "Serve an experiment's tasks to ZeroMQ workers.")

    @OptionGroup var source: ExperimentSource

    @Option(help: "ZeroMQ endpoint to bind, e.g. tcp://*:5555.")
    var bind: String = "tcp://127.0.0.1:5555"

    @Option(help: "CURVE key directory: coordinator.key, coordinator.pub and workers/*.pub (the allow-list). Without it the coordinator makes RUN/keys (0700) and accepts only workers given --keys RUN/keys --name worker.")
    var keys: String?

    @Flag(help: "Accept workers without CURVE keys (anyone who can reach the endpoint can submit results).")
    var insecure = false

    @Option(help: "Attempts per task before it is marked failed.")
    var maxAttempts: Int = 3

    @Option(help: "Heartbeat interval in seconds (Paranoid Pirate).")
    var heartbeat: Double = 1

    @Flag(help: "Keep serving after every task is settled (for workers joining later or retries).")
    var stay = false

    @Flag(help: "Exit (status 3) as soon as every task is settled with some failed, instead of serving on so `seafold retry` can reach it.")
    var exitOnFailure = false

    @Option(help: "Seconds between progress summary lines when stderr is not a terminal (task events are logged as they happen).")
    var progressInterval: Double = 30

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if !(progressInterval > 0) { throw ValidationError("--progress-interval must be more than 0 seconds") }
    }

    func run() throws {
        try logging.bootstrap()
        let loaded = try source.load()
        let runDir = source.runDirectory(for: loaded.config)
        // Without --config on an existing run: resume it from its frozen experiment.yaml. Either
        // way the new plan is checked against RUN/plan.json and any difference is said (warnings).
        let resume = source.config == nil && FileManager.default.fileExists(atPath: runDir.appendingPathComponent("experiment.yaml").path)
        let setup = resume
            ? try ExperimentSetup.prepare(yaml: nil, runDirectory: runDir, baseDirectory: loaded.base, progress: { Console.status($0) })
            : try ExperimentSetup.prepare(config: loaded.config, yaml: loaded.text, runDirectory: runDir, progress: { Console.status($0) })
        Console.endStatus()
        let disk = try setup.checkDisk(workers: nil, workerCachesInRunDirectory: false)
        for w in setup.warnings { Console.warn(w) }
        var options = CoordinatorOptions(codeVersion: SeafoldVersion.string)
        options.maxAttempts = maxAttempts
        options.heartbeatInterval = heartbeat
        options.insecure = insecure
        // Progress comes from the ledger (ProgressReporter), on stderr.
        options.printProgress = false
        // Workers are dismissed below, once this command knows it will not serve on.
        options.dismissWorkersWhenFinished = false
        options.checkpointRoomBytes = disk.checkpointRoomBytes
        options.budgetBytes = disk.budgetBytes
        var keyDir: URL?
        if let keys {
            keyDir = URL(fileURLWithPath: keys)
        } else if !insecure {
            // Key-less still means authenticated: a stranger on this machine (or network)
            // must not be able to submit results. The keys stay across restarts of this run.
            keyDir = try RunKeys.ensure(runDir.appendingPathComponent("keys"), workerName: "worker")
        }
        if let dir = keyDir {
            options.curve = try KeyFiles.load(directory: dir, name: "coordinator")
            options.allowedKeysDirectory = dir.appendingPathComponent("workers")
        }
        let coordinator = try Coordinator(runDirectory: runDir, bind: bind, options: options)
        try coordinator.submit(try ClusterGlue.descriptors(for: setup, coordinator: coordinator))
        Console.info("seafold coordinator: \(setup.graph.tasks.count) tasks, serving at \(coordinator.endpoint), run directory \(runDir.path)")
        if keys == nil, let dir = keyDir {
            Console.info("workers join with: seafold worker --connect \(coordinator.endpoint) --keys \(dir.path) --name worker (copy that directory's worker.key, worker.pub and coordinator.pub to other machines)")
        }
        let stopping = StopFlag()
        installStopHandler { stopping.set(); coordinator.stop() }
        let progress = ProgressReporter(interval: progressInterval, terminal: Console.isTTY && !LogBootstrap.json)
        progress.startTicking { TaskTable.snapshot(coordinator.ledger) }
        var status = try coordinator.run(until: stay ? .stopped : .allSettled)
        Console.endStatus()
        if let s = TaskTable.snapshot(coordinator.ledger) { progress.observe(s.rows, workers: s.workers) }
        // Exiting here with failed tasks made `restart: on-failure` (and a StatefulSet)
        // restart the coordinator in a loop, and left `seafold retry` nobody to talk to.
        while status.failed > 0 && !exitOnFailure && !stay && !stopping.isSet {
            try writeReport(setup, coordinator)
            Console.warn("\(status.failed) tasks failed; report written; still serving so `seafold retry --run-dir \(runDir.path) --failed` can queue them again (stop with SIGTERM, or start with --exit-on-failure to exit instead)")
            status = try coordinator.run(until: .allDone)
            Console.endStatus()
        }
        progress.finish(TaskTable.snapshot(coordinator.ledger)?.rows)
        // Dismissed before the report is written, as before: the BYEs go out while it is.
        if !stay { coordinator.dismissWorkers(reason: "run finished") }
        try writeReport(setup, coordinator)
        if status.failed > 0 { throw ExitCode(3) }
    }

    private func writeReport(_ setup: ExperimentSetup, _ coordinator: Coordinator) throws {
        let results = try ClusterGlue.results(plan: setup.plan, runDirectory: setup.runDirectory, ledger: coordinator.ledger, store: coordinator.store)
        try ReportCommand.write(results, runDirectory: setup.runDirectory, json: false)
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

    @Option(help: "Worker name (also the key file name with --keys). The worker id is NAME-<random>, unique per start.")
    var name: String = ProcessInfo.processInfo.hostName

    @Option(help: "Share of a task's time that checkpoint uploads to the coordinator may take (0 keeps checkpoints on this worker only, 1 uploads every one).")
    var checkpointUploadShare: Double = 0.1

    @Option(help: "Host or pod name shown in status and logs (default: $SEAFOLD_WORKER_HOST, else the host name).")
    var host: String = ProcessInfo.processInfo.environment["SEAFOLD_WORKER_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? ProcessInfo.processInfo.hostName

    @Option(help: .hidden) var parentPid: Int32?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if !(checkpointUploadShare >= 0) { throw ValidationError("--checkpoint-upload-share must be 0 or more") }
    }

    func run() throws {
        try logging.bootstrap()
        if let parentPid { try ChildProcess.dieWithParent(parentPid) }
        BLASKernel.setThreads(threads)
        let cacheDir = cache.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/seafold/\(name)")
        var options = WorkerOptions(codeVersion: SeafoldVersion.string, cacheDirectory: cacheDir)
        // NAME alone collides: every container replica runs as PID 1 with the same --name.
        options.workerID = WorkerOptions.uniqueID(name: name)
        options.host = host
        options.kernel = "\(BLASKernel.corename) \(BLASKernel.isaLevel)"
        options.threads = threads
        options.checkpointUploadShare = checkpointUploadShare
        if let keys {
            let dir = URL(fileURLWithPath: keys)
            options.curve = try KeyFiles.load(directory: dir, name: name)
            options.serverPublicKey = try KeyFiles.readKey(dir.appendingPathComponent("coordinator.pub"))
            options.keyFilesDescription = "\(dir.appendingPathComponent("\(name).key").path) (its \(name).pub must be in the coordinator's allow-list) and \(dir.appendingPathComponent("coordinator.pub").path)"
        }
        let worker = try Worker(connect: connect, options: options, runner: ClusterGlue.runner(threads: threads))
        installStopHandler { worker.stop() }
        try worker.run()
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

import CZeroMQ
import Foundation
import Logging
import Scheduling

/// Settings of a coordinator. Defaults follow the Paranoid Pirate figures (docs/REFERENCE_SEMANTICS.md).
public struct CoordinatorOptions {
    /// Workers must announce exactly this version, or they are refused.
    public var codeVersion: String
    public var heartbeatInterval: TimeInterval = 1
    public var liveness: Int = 3
    /// Counted failures before a task is marked failed (see `Scheduler` for what counts).
    public var maxAttempts: Int = 3
    /// Leases of any kind per task before it fails: `leaseCapFactor × maxAttempts`.
    public var leaseCapFactor: Int = 4
    /// Consecutive failures of one worker on distinct tasks that quarantine it.
    public var quarantineAfter: Int = 3
    /// First quarantine in seconds (doubling with each further one).
    public var quarantineSeconds: TimeInterval = 30
    /// A lease's deadline is max(this, deadlineFactor × the task's expected seconds,
    /// deadlineFactor × the slowest done lease of its kind); nil: no deadlines.
    public var taskDeadlineFloor: TimeInterval? = 6 * 3600
    public var deadlineFactor: Double = 3
    /// CURVE server keys; with them, `allowedKeysDirectory` (a folder of `*.pub`) is required.
    public var curve: CurveKeyPair?
    public var allowedKeysDirectory: URL?
    /// Allow binding a non-loopback address without CURVE.
    public var insecure: Bool = false
    /// Called about once a second (and at the end) with the run summary.
    public var onProgress: ((RunStatus) -> Void)?
    /// Print a live status line on stderr (default: when stderr is a terminal). Stdout is for
    /// results: a status line there made `--json` output invalid.
    public var printProgress: Bool = isatty(STDERR_FILENO) == 1
    /// Send BYE to workers when `run(until: .allSettled)` ends, so they exit.
    public var dismissWorkersWhenFinished: Bool = true
    /// Bytes the store may hold in checkpoints at once: the run's disk budget less its expected
    /// final size (results always arrive, so only the rest is checkpoints' room). A checkpoint
    /// upload that would pass it is declined (the worker keeps it); results are always taken.
    public var checkpointRoomBytes: Int64?
    /// The run directory's disk budget. Results are always taken; if they alone carry the run
    /// directory past it (the plan's size estimate was low), the coordinator says so once, in
    /// its log and as a `budget-exceeded` event.
    public var budgetBytes: Int64?
    public var logger = Logger(label: "seafold.coordinator")

    public init(codeVersion: String) { self.codeVersion = codeVersion }
}

/// When `Coordinator.run` returns.
public enum CoordinatorRunMode: Sendable {
    /// When no task is pending or running (all done, failed or blocked), or on `stop()`.
    case allSettled
    /// Only on `stop()` (serve forever; tasks may be submitted while running).
    case stopped
    /// When every task is done, or on `stop()`: a run whose failed tasks were settled keeps
    /// serving so `seafold retry` can put them back and workers can finish them.
    case allDone
}

/// The coordinator: stores the task graph in the ledger, hands ready tasks to workers over a
/// ZeroMQ ROUTER (protocol: `WireProtocol`), tracks leases with heartbeats, retries, and keeps
/// uploaded artifacts in a content-addressed store under RUN/artifacts.
///
/// Thread safety: `submit`, `importArtifact`, `retry`, `status` and `stop` may be called from
/// any thread while `run` serves on another.
public final class Coordinator: @unchecked Sendable {
    public let runDirectory: URL
    public let ledger: Ledger
    public let store: ArtifactStore
    /// The endpoint actually bound (a `*` port resolved), for workers to connect to.
    public let endpoint: String
    let options: CoordinatorOptions
    var log: Logger { options.logger }

    let context: ZMQContext
    let router: ZMQSocket
    var zap: ZapHandler?
    let lock = NSLock()
    private var stopRequested = false

    // In-memory mirror of the ledger (written through on every change).
    var tasks: [String: TaskRecord] = [:]
    var attempts: [String: AttemptRecord] = [:]   // running leases by token
    var doneDurations: [Double] = []
    /// Every scheduling decision (ready set, order, leases, failure accounting, quarantine,
    /// deadlines); the records above follow its directives.
    var sched: Scheduler
    var peers: [Data: Peer] = [:]
    /// The connection each worker id is on (the Scheduler knows workers by id).
    var peerOf: [String: Data] = [:]
    /// Workers whose last upload this coordinator refused for lack of space: their next FAIL
    /// is not held against anyone (decided here, never from the FAIL's text).
    var refusedForSpace = Set<String>()
    /// Stored artifacts hashed in this process, with the file identity at that moment.
    var servedVerified: [String: [Int]] = [:]
    /// The start-up verification: files, bytes, seconds.
    public internal(set) var lastVerification: (files: Int, bytes: Int64, seconds: Double) = (0, 0, 0)
    /// Held while this coordinator serves the run directory (RUN/coordinator.lock).
    let runLock: RunLock
    var peerOrder: [Data] = []
    var uploads: [String: InboundUpload] = [:]
    var nextUploadSerial = 0
    /// Bytes of finished uploads whose fsync and rename are still running.
    var committingBytes: Int64 = 0
    var committingCheckpointBytes: Int64 = 0
    /// Bytes of the run directory outside the artifact store when serving began (packs, ledger).
    var bytesOutsideStore: Int64 = 0
    var budgetExceededReported = false
    /// Work posted by writer threads for the serving thread (see CoordinatorUploads).
    let mailbox: Mailbox
    /// When the serving loop last went round; a longer gap means this process was not
    /// scheduled (or stopped), and peers are not blamed for what it could not hear.
    var lastLoopTurn = 0.0
    var dirty = true
    var cpuAccumulated = 0.0
    var runThreadCPUStart: Double?
    var runThreadCPUNow = 0.0
    var readHandles: [String: FileHandle] = [:]
    var lastProgressPersist: [String: Double] = [:]
    var droppedMessages = 0
    var lastDropLog = 0.0
    /// Set while the run directory is out of space (the error, naming the path); see CoordinatorStorage.
    var storageProblem: String?
    /// Where the pause is recorded for `seafold status` (see NoticeFile).
    let notice: NoticeFile
    var nextSpaceProbe = 0.0
    /// Attempt ends and events the ledger could not take while out of space.
    var unpersistedAttempts: [AttemptRecord] = []
    var unpersistedEvents: [EventRecord] = []
    /// DONEs waiting for the open batch's ledger transaction (nil: no batch open); see CoordinatorBatching.
    var resultBatch: [StagedDone]?
    /// How many DONEs the last flushed batch held (for tests).
    var lastResultBatchSize = 0
    /// Dispatch-loop statistics for the benchmark.
    public internal(set) var handledMessages = 0
    /// Per drained batch that sent ASSIGNs (receive → handlers → group commit → dispatch): wall
    /// and serving-thread CPU milliseconds, the last 100 000 (read with `batchTimings`).
    var leasesSent = 0
    var batchWallMs: [Double] = []
    var batchCPUMs: [Double] = []

    public init(runDirectory: URL, bind: String, options: CoordinatorOptions) throws {
        self.runDirectory = runDirectory
        self.options = options
        if !isLoopbackEndpoint(bind) && options.curve == nil && !options.insecure {
            throw ClusterError.config(key: "bind", reason: "\(bind) is reachable from other machines; give CURVE keys (`seafold keys generate`) or pass --insecure")
        }
        if options.curve != nil && options.allowedKeysDirectory == nil {
            throw ClusterError.config(key: "allowedKeysDirectory", reason: "CURVE needs a directory of allowed worker *.pub keys")
        }
        guard options.maxAttempts >= 1, options.liveness >= 1, options.heartbeatInterval > 0 else {
            throw ClusterError.config(key: "options", reason: "maxAttempts and liveness must be >= 1 and heartbeatInterval > 0")
        }
        sched = Scheduler(policy: Coordinator.schedulerPolicy(options), makeToken: Token.make)
        runLock = try RunLock(runDirectory: runDirectory)
        mailbox = try Mailbox()
        ledger = try Ledger(runDirectory: runDirectory)
        notice = NoticeFile(runDirectory: runDirectory)
        try? notice.reset()
        store = try ArtifactStore(root: runDirectory.appendingPathComponent("artifacts", isDirectory: true))
        context = try ZMQContext()
        if let dir = options.allowedKeysDirectory, options.curve != nil {
            zap = try ZapHandler(context: context, allowDirectory: dir, logger: options.logger)
        }
        router = try ZMQSocket(context, .router)
        do {
            try router.setInt(ZMQ_ROUTER_MANDATORY, 1)
            try router.setInt(ZMQ_ROUTER_HANDOVER, 1)
            try router.setInt64(ZMQ_MAXMSGSIZE, WireProtocol.maxFrameBytes)
            try router.setInt(ZMQ_SNDHWM, 100_000)
            try router.setInt(ZMQ_RCVHWM, 100_000)
            if let curve = options.curve {
                try router.setInt(ZMQ_CURVE_SERVER, 1)
                try router.setString(ZMQ_CURVE_SECRETKEY, curve.secretKey)
                try router.setString(ZMQ_ZAP_DOMAIN, "seafold")
                router.captureUserID = true
            }
            try router.bind(bind)
            endpoint = try router.lastEndpoint()
        } catch {
            zap?.stop()
            throw error
        }
        try recover()
        collectGarbage()
        if options.budgetBytes != nil { bytesOutsideStore = Coordinator.bytesOutside(store: store.root, in: runDirectory) }
    }

    /// Before serving: removes from the store what no task needs any more (checkpoints of done
    /// tasks, superseded ones, orphans, temporary files of a previous process), so a resumed
    /// run starts within its budget. Nothing is being written yet, so nothing can race it.
    private func collectGarbage() {
        do {
            let done = StoreGarbageCollector.execute(try StoreGarbageCollector.plan(ledger: ledger, store: store))
            guard !done.deletions.isEmpty else { return }
            let detail = "\(done.deletions.count) files, \(Coordinator.megabytes(done.freedBytes)) MB freed at start"
            try ledger.recordEvent(kind: "gc", detail: detail)
            log.info("store: \(detail)")
        } catch { log.warning("store clean-up at start: \(error)") }
    }

    deinit {
        router.close()
        zap?.stop()
    }

    /// Loads the ledger; tasks leased when a previous coordinator died go back to the queue
    /// (their attempt is recorded as lost but not counted against `maxAttempts`). Then every
    /// stored artifact the run relies on is hashed again (CoordinatorArtifacts), and requests
    /// written while no coordinator served are applied.
    private func recover() throws {
        let now = Date().timeIntervalSince1970
        var changed: [TaskRecord] = [], ended: [AttemptRecord] = [], events: [EventRecord] = []
        let timeline = try ledger.timeline()
        let running = Dictionary(timeline.filter { $0.outcome == "running" }.map { ($0.leaseToken, $0) }, uniquingKeysWith: { a, _ in a })
        var list: [Scheduler.Task] = []
        // The lease cap counts leases since the task's last retry or invalidation.
        var lastReset: [String: Double] = [:]
        for e in try ledger.events(kind: "retry") + ledger.events(kind: "invalidated") {
            if let id = e.task { lastReset[id] = max(lastReset[id] ?? 0, e.time) }
        }
        var leasesSince: [String: Int] = [:]
        for a in timeline where a.startedAt >= lastReset[a.taskID] ?? 0 { leasesSince[a.taskID, default: 0] += 1 }
        for var t in try ledger.tasks() {
            if t.state == .running {
                if let tok = t.currentLease, var a = running[tok] {
                    a.outcome = "lost"; a.endedAt = now; a.error = "coordinator restarted"
                    ended.append(a)
                }
                t.state = .pending; t.currentLease = nil
                changed.append(t)
                events.append(EventRecord(time: now, kind: "requeued", task: t.id, worker: nil, detail: "coordinator restarted while leased"))
            }
            tasks[t.id] = t
            var st = Coordinator.schedulerTask(t)
            st.leases = leasesSince[t.id] ?? 0
            list.append(st)
        }
        doneDurations = timeline.filter { $0.outcome == "done" }.compactMap { a in a.endedAt.map { $0 - a.startedAt } }
        // The deadlines remember how long each kind took in earlier runs of this directory.
        for a in timeline where a.outcome == "done" {
            if let end = a.endedAt, let kind = tasks[a.taskID]?.kind { sched.noteCompleted(kind: kind, seconds: end - a.startedAt) }
        }
        if !changed.isEmpty { try ledger.commit(tasks: changed, attempts: ended, events: events) }
        apply(sched.handle(.submitted(list), now: now), now: now)
        try verifyStoredArtifacts(now: now)
        applyRequests(now: now)
    }

    // MARK: public API

    /// Copies a file into the run's artifact store; returns its sha256 (use as `.hash`).
    @discardableResult
    public func importArtifact(_ file: URL) throws -> String {
        let h = try store.importFile(file)
        try ledger.commit(artifacts: [(h, store.size(of: h) ?? 0, "import:\(file.lastPathComponent)")])
        return h
    }

    /// Adds tasks to the graph. Idempotent by id: tasks already in the ledger keep their state.
    /// Throws if a dependency is unknown, an `.output` input names a task that is not a
    /// dependency, an input hash is not in the store, a name is not a plain file name, or the
    /// graph has a cycle.
    public func submit(_ descriptors: [TaskDescriptor]) throws {
        lock.lock(); defer { lock.unlock() }
        var known = Set(tasks.keys)
        for d in descriptors { known.insert(d.id) }
        for d in descriptors {
            guard !d.id.isEmpty else { throw ClusterError.task(id: "\"\"", reason: "empty id") }
            for dep in d.dependencies where !known.contains(dep) {
                throw ClusterError.task(id: d.id, reason: "depends on unknown task '\(dep)'")
            }
            for (name, ref) in d.inputs {
                try ArtifactStore.validateName(name)
                switch ref {
                case let .hash(h):
                    guard store.contains(h) else { throw ClusterError.task(id: d.id, reason: "input '\(name)' names artifact \(h.prefix(16))… which is not in the store; importArtifact it first") }
                case let .output(task, out):
                    try ArtifactStore.validateName(out)
                    guard d.dependencies.contains(task) else { throw ClusterError.task(id: d.id, reason: "input '\(name)' uses an output of '\(task)', which must be listed in dependencies") }
                }
            }
        }
        var graph: [String: [String]] = [:]
        for t in tasks.values { graph[t.id] = t.dependencies }
        for d in descriptors where graph[d.id] == nil { graph[d.id] = d.dependencies }
        if let cycle = Coordinator.findCycle(graph) { throw ClusterError.task(id: cycle, reason: "is part of a dependency cycle") }
        let now = Date().timeIntervalSince1970
        let inserted = try ledger.submit(descriptors, now: now)
        for r in inserted { tasks[r.id] = r }
        // A new task depending on an already failed one is blocked at once.
        apply(sched.handle(.submitted(inserted.map(Coordinator.schedulerTask)), now: now), now: now)
        dirty = true
    }

    /// Resets a failed task (and what it blocked) to pending with fresh counts; a checkpoint
    /// that no longer verifies is dropped. `taskID` may be a unique prefix.
    public func retry(taskID: String) throws {
        lock.lock(); defer { lock.unlock() }
        let id = try resolveTaskID(taskID)
        let rejected = apply(sched.handle(.retry(tasks: [id]), now: Date().timeIntervalSince1970), now: Date().timeIntervalSince1970)
        if let r = rejected.first { throw ClusterError.task(id: id, reason: r) }
    }

    /// Retries all failed tasks.
    @discardableResult
    public func retryFailed() throws -> [String] {
        lock.lock(); defer { lock.unlock() }
        let ids = tasks.values.filter { $0.state == .failed }.map(\.id).sorted()
        if !ids.isEmpty { apply(sched.handle(.retry(tasks: ids), now: Date().timeIntervalSince1970), now: Date().timeIntervalSince1970) }
        return ids
    }

    /// Puts a done task back in the queue (its outputs are discarded); with dependents,
    /// everything downstream that is done or running runs again too.
    public func invalidate(taskID: String, withDependents: Bool, reason: String = "invalidated by request") throws {
        lock.lock(); defer { lock.unlock() }
        let id = try resolveTaskID(taskID)
        let now = Date().timeIntervalSince1970
        let rejected = apply(sched.handle(.invalidate(task: id, withDependents: withDependents, reason: reason), now: now), now: now)
        if let r = rejected.first { throw ClusterError.task(id: id, reason: r) }
    }

    /// A full task id from an id or a unique prefix of one.
    func resolveTaskID(_ text: String) throws -> String {
        if tasks[text] != nil { return text }
        return try Ledger.resolve(prefix: text, among: tasks.keys)
    }

    /// The live summary (from memory; `ledger.status()` gives the same from disk).
    public func status() -> RunStatus {
        lock.lock(); defer { lock.unlock() }
        return statusLocked(now: Date().timeIntervalSince1970)
    }

    /// Asks `run` to return (thread-safe).
    public func stop() {
        lock.lock(); stopRequested = true; lock.unlock()
    }

    /// Serves workers until `mode` says to stop; returns the final summary.
    @discardableResult
    public func run(until mode: CoordinatorRunMode = .allSettled) throws -> RunStatus {
        let cpuStart = Coordinator.threadCPU()
        defer { lock.lock(); cpuAccumulated += Coordinator.threadCPU() - cpuStart; runThreadCPUStart = nil; lock.unlock() }
        lock.lock(); runThreadCPUStart = cpuStart; lock.unlock()
        ledger.startBackgroundCheckpoints()
        defer { ledger.stopBackgroundCheckpoints() }
        var lastReport = 0.0
        var nextHousekeeping = 0.0
        var nextRequestPoll = 0.0
        var nextSafetyDispatch = 0.0
        let tickMs = Int32(max(5, min(100, options.heartbeatInterval * 250)))
        while true {
            lock.lock()
            let now = Date().timeIntervalSince1970
            let stopNow = stopRequested || (mode == .allSettled && allSettled()) || (mode == .allDone && allDone())
            if stopNow {
                stopRequested = false
                let st = statusLocked(now: now)
                if options.dismissWorkersWhenFinished && mode != .stopped { dismissAll(reason: "run finished") }
                lock.unlock()
                report(st, final: true)
                return st
            }
            // Heartbeats and expiry at most every tick, not per message (O(peers) each time).
            if now >= nextHousekeeping {
                housekeeping(now: now)
                probeSpace(now: now)
                // Deadlines and quarantine ends; requests from `seafold retry`/`invalidate`.
                apply(sched.handle(.tick, now: now), now: now)
                if now >= nextRequestPoll { applyRequests(now: now); nextRequestPoll = now + 0.5 }
                // Safety net: a dispatch whose ledger write failed is tried again within 2 s.
                if now >= nextSafetyDispatch { dirty = true; nextSafetyDispatch = now + 2 }
                nextHousekeeping = now + Double(tickMs) / 1000
            }
            if dirty { dispatch(now: now) }
            // The summary walks every task: only when someone reads it.
            let wanted = options.onProgress != nil || options.printProgress
            let st: RunStatus? = wanted && now - lastReport >= 1 ? statusLocked(now: now) : nil
            lock.unlock()
            if let st { lastReport = now; report(st, final: false) }
            lock.lock(); if runThreadCPUStart != nil { runThreadCPUNow = Coordinator.threadCPU() }; lock.unlock()

            let readable = try ZMQSocket.poll([router], fds: [mailbox.wakeDescriptor], timeoutMs: tickMs)
            if readable[1] { lock.lock(); drainMailbox(); lock.unlock() }
            if readable[0], let frames = try router.receive(timeoutMs: 0, maxFrames: WireProtocol.maxFrames + 2) {
                lock.lock()
                let wall0 = Date().timeIntervalSince1970, cpu0 = Coordinator.threadCPUPrecise()
                leasesSent = 0
                // Drain what is queued without blocking; the DONEs among it are committed in one
                // ledger transaction (CoordinatorBatching) before scheduling once.
                beginResultBatch()
                handle(frames)
                var n = 0
                while n < 1000, let more = try? router.receive(timeoutMs: 0, maxFrames: WireProtocol.maxFrames + 2) {
                    handle(more); n += 1
                }
                // Dispatch commits the staged DONEs with its leases; flushResults writes them
                // when dispatch had nothing to hand out.
                if dirty { dispatch(now: Date().timeIntervalSince1970) }
                flushResults(now: Date().timeIntervalSince1970)
                if leasesSent > 0 {
                    if batchWallMs.count >= 100_000 { batchWallMs.removeFirst(50_000); batchCPUMs.removeFirst(50_000) }
                    batchWallMs.append((Date().timeIntervalSince1970 - wall0) * 1000)
                    batchCPUMs.append((Coordinator.threadCPUPrecise() - cpu0) * 1000)
                }
                lock.unlock()
            }
        }
    }

    private func report(_ st: RunStatus, final: Bool) {
        options.onProgress?(st)
        guard options.printProgress else { return }
        var line = "\r\u{1B}[K" + st.summaryLine
        if let r = st.runningTasks.first(where: { !$0.message.isEmpty }) { line += " | \(r.label): \(r.message)" }
        if final { line += "\n" }
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Wall and serving-thread CPU milliseconds of each drained message batch so far (the
    /// coordinator's own share of a DONE → ASSIGN round trip; the rest is sockets and waiting
    /// to be scheduled). Starting at index `from`.
    public func batchTimings(from: Int = 0) -> (wallMs: [Double], cpuMs: [Double], count: Int) {
        lock.lock(); defer { lock.unlock() }
        let s = min(from, batchWallMs.count)
        return (Array(batchWallMs[s...]), Array(batchCPUMs[s...]), batchWallMs.count)
    }

    /// CPU seconds the serving thread has used in `run` so far (sampled each loop turn).
    public func coordinatorCPUSeconds() -> Double {
        lock.lock(); defer { lock.unlock() }
        if let s = runThreadCPUStart { return cpuAccumulated + runThreadCPUNow - s }
        return cpuAccumulated
    }

    /// This thread's CPU time, nanosecond clock (RUSAGE_THREAD counts in scheduler ticks).
    static func threadCPUPrecise() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func threadCPU() -> Double {
        var ru = rusage()
        getrusage(__rusage_who_t(1), &ru)  // RUSAGE_THREAD (Linux)
        return Double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + Double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6
    }

    func allDone() -> Bool {
        !tasks.values.contains { $0.state != .done }
    }

    /// Sends BYE to every connected worker (after `run` returned with
    /// `dismissWorkersWhenFinished` off); they exit.
    public func dismissWorkers(reason: String) {
        lock.lock(); defer { lock.unlock() }
        dismissAll(reason: reason)
    }

    func allSettled() -> Bool {
        !tasks.values.contains { $0.state == .pending || $0.state == .running }
    }

    func statusLocked(now: Double) -> RunStatus {
        var st = Ledger.summarize(Array(tasks.values), attempts: Array(attempts.values), connectedWorkers: peers.count, now: now)
        let q = sched.quarantined
        if !q.isEmpty { st.quarantined = q.mapValues(\.reason) }
        if !doneDurations.isEmpty, st.pending + st.running > 0 {
            let mean = doneDurations.reduce(0, +) / Double(doneDurations.count)
            let par = Double(max(1, max(peers.count, st.running)))
            st.eta = (Double(st.pending) * mean + st.runningTasks.map { max(0, mean - $0.elapsed) }.reduce(0, +)) / par
        }
        st.runningTasks.sort { $0.id < $1.id }
        st.storageProblem = storageProblem
        return st
    }

    static func findCycle(_ graph: [String: [String]]) -> String? {
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        for start in graph.keys.sorted() where state[start] == nil {
            var stack: [(String, Int)] = [(start, 0)]
            state[start] = 1
            while let (node, i) = stack.last {
                let deps = graph[node] ?? []
                if i < deps.count {
                    stack[stack.count - 1].1 += 1
                    let d = deps[i]
                    if state[d] == 1 { return d }
                    if state[d] == nil { state[d] = 1; stack.append((d, 0)) }
                } else {
                    state[node] = 2
                    stack.removeLast()
                }
            }
        }
        return nil
    }
}

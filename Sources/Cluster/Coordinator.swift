import CZeroMQ
import Foundation
import Logging
import Scheduling

/// The coordinator: stores the task graph in the ledger, hands ready tasks to workers over a
/// ZeroMQ ROUTER (protocol: `WireProtocol`), tracks leases with heartbeats, retries, and keeps
/// uploaded artifacts in a content-addressed store under RUN/artifacts.
///
/// Thread safety: `submit`, `importArtifact`, `retry`, `status` and `stop` may be called from
/// any thread while `run` serves on another.
// Safe: mutable state is read and written only with `lock` held (the serving loop takes it for each turn).
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
    /// Messages handled so far (tests wait on it).
    public internal(set) var handledMessages = 0
    /// ASSIGNs sent in the batch being handled (`CoordinatorLoopEvent.batchEnded`).
    var leasesSent = 0

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

    deinit {
        router.close()
        zap?.stop()
    }

    /// Asks `run` to return (thread-safe).
    public func stop() {
        lock.lock(); stopRequested = true; lock.unlock()
    }

    /// Serves workers until `mode` says to stop; returns the final summary.
    @discardableResult
    public func run(until mode: CoordinatorRunMode = .allSettled) throws -> RunStatus {
        lock.lock(); options.loopObserver?(.started); lock.unlock()
        defer { lock.lock(); options.loopObserver?(.stopped); lock.unlock() }
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
            if let observe = options.loopObserver { lock.lock(); observe(.turn); lock.unlock() }

            let readable = try ZMQSocket.poll([router], fds: [mailbox.wakeDescriptor], timeoutMs: tickMs)
            if readable[1] { lock.lock(); drainMailbox(); lock.unlock() }
            if readable[0], let frames = try router.receive(timeoutMs: 0, maxFrames: WireProtocol.maxFrames + 2) {
                lock.lock()
                options.loopObserver?(.batchBegan)
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
                options.loopObserver?(.batchEnded(leasesSent: leasesSent))
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
}

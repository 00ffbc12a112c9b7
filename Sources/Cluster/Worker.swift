import CZeroMQ
import Foundation
import Logging

/// Settings of a worker. Defaults follow the Paranoid Pirate figures (docs/REFERENCE_SEMANTICS.md).
public struct WorkerOptions {
    /// Must equal the coordinator's `codeVersion`, or the worker is refused.
    public var codeVersion: String
    /// Where fetched artifacts are cached by hash (and per-attempt scratch directories live).
    public var cacheDirectory: URL
    public var workerID: String
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    public var memoryBytes: Int64 = Int64(ProcessInfo.processInfo.physicalMemory)
    /// Tasks run at the same time (each on its own thread).
    public var slots: Int = 1
    /// The share of a task's time that checkpoint uploads may take: a checkpoint goes to the
    /// coordinator when the time since the last upload is at least the last upload's duration
    /// divided by this. 0 keeps checkpoints on the worker only; 1 or more uploads every one.
    /// Every checkpoint is kept in the worker's cache either way.
    public var checkpointUploadShare: Double = 0.1
    public var heartbeatInterval: TimeInterval = 1
    public var liveness: Int = 3
    public var reconnectInitial: TimeInterval = 1
    public var reconnectMax: TimeInterval = 32
    /// Give up (return from `run`) when the coordinator has been unreachable this long.
    public var giveUpAfter: TimeInterval?
    /// CURVE client keys and the coordinator's public key (Z85).
    public var curve: CurveKeyPair?
    public var serverPublicKey: String?
    /// Names the key files in errors ("/keys/alice.key, /keys/coordinator.pub").
    public var keyFilesDescription = "the worker's CURVE keys (none given: --keys)"
    /// Failed CURVE handshakes (key not on the allow-list, wrong coordinator key) before `run`
    /// throws: retrying cannot fix a wrong key, and a worker that only logs "silent" hides it.
    public var maxHandshakeFailures = 5
    /// The host (or pod) name announced in READY, for people reading status and logs.
    public var host = ProcessInfo.processInfo.hostName
    /// BLAS kernel and CPU ISA level, announced in READY and kept in the ledger's workers row.
    public var kernel: String?
    public var logger = Logger(label: "seafold.worker")

    public init(codeVersion: String, cacheDirectory: URL) {
        self.codeVersion = codeVersion
        self.cacheDirectory = cacheDirectory
        workerID = WorkerOptions.uniqueID(name: ProcessInfo.processInfo.hostName)
    }

    /// NAME-HEX with 64 random bits: unique per process start even when every replica has the
    /// same name and PID (containers, where the worker is PID 1).
    public static func uniqueID(name: String) -> String { "\(name)-\(Token.make().prefix(16))" }
}

/// A worker: connects a DEALER to the coordinator, announces itself (READY), runs each
/// assigned task with `runner` on its own thread, and keeps heartbeats, fetches and uploads
/// going on the I/O thread meanwhile (runner threads talk to it over inproc sockets).
/// `run` returns on BYE, `stop()`, or `giveUpAfter`; it throws `.refused` when refused.
// Safe: stopRequested, verified, cancelled and completed are guarded by `stateLock`; the rest is the I/O thread's own.
public final class Worker: @unchecked Sendable {
    public typealias Runner = (TaskAssignment, TaskContext) throws -> TaskOutcome
    let coordinatorEndpoint: String
    let options: WorkerOptions
    let runner: Runner
    var log: Logger { options.logger }

    let stateLock = NSLock()
    private var stopRequested = false
    /// Hashes verified in the cache during this process's life, with the file's identity
    /// (inode, size, mtime) at that moment: a file replaced or rewritten since is hashed again.
    var verified: [String: [Int]] = [:]
    /// Leases the coordinator cancelled (CANCEL) whose runner has not ended yet.
    var cancelled = Set<String>()
    /// Tasks finished (DONE or FAIL sent) by this worker.
    public internal(set) var completed = 0

    // I/O thread state.
    var context: ZMQContext!
    var store: ArtifactStore!
    var dealer: ZMQSocket?
    var inbox: ZMQSocket!
    var inboxEndpoint = ""
    var generation = 0
    var running: [String: Data] = [:]          // lease token → runner routing id
    var fetches: [String: OutboundFetch] = [:]
    var uploads: [String: OutboundUpload] = [:]
    var recentResults: [[Data]] = []
    /// Write reports of fetches from their writer threads (see `Mailbox`).
    var mailbox: Mailbox!
    /// Handshake events of the current DEALER (CURVE only); see `drainMonitor`.
    var monitor: ZMQSocket?
    var handshakeFailures = 0
    var handshakeSucceeded = false
    var failureReported = false

    public init(connect: String, options: WorkerOptions, runner: @escaping Runner) {
        self.coordinatorEndpoint = connect
        self.options = options
        self.runner = runner
    }

    public func stop() { stateLock.lock(); stopRequested = true; stateLock.unlock() }
    var isStopping: Bool { stateLock.lock(); defer { stateLock.unlock() }; return stopRequested }

    public func run() throws {
        context = try ZMQContext()
        mailbox = try Mailbox()
        store = try ArtifactStore(root: options.cacheDirectory)
        inbox = try ZMQSocket(context, .router)
        inboxEndpoint = "inproc://seafold-worker-\(Token.make())"
        try inbox.bind(inboxEndpoint)
        defer { dealer?.close(); monitor?.close(); inbox.close() }

        var backoff = options.reconnectInitial
        var unreachableSince: Double?
        while !isStopping {
            try connect()
            var lastHeard = now()
            var nextHeartbeat = now() + options.heartbeatInterval
            var heardAny = false
            while true {
                if isStopping {
                    _ = try? dealer?.send(WireMessage(.bye, ReasonHeader(reason: "worker stopping")).frames, timeoutMs: 0)
                    return
                }
                let t = now()
                if t - lastHeard > options.heartbeatInterval * Double(options.liveness) { break }
                if t >= nextHeartbeat {
                    sendToCoordinator(WireMessage(.heartbeat, Empty()))
                    nextHeartbeat = t + options.heartbeatInterval
                }
                let wait = Int32(max(1, min(100, (nextHeartbeat - t) * 1000)))
                let sockets: [ZMQSocket] = [dealer!, inbox!] + (monitor.map { [$0] } ?? [])
                let readable = try ZMQSocket.poll(sockets, fds: [mailbox.wakeDescriptor], timeoutMs: wait)
                if readable[sockets.count] { for item in mailbox.take() { item() } }
                if sockets.count > 2 && readable[2] { try drainMonitor() }
                if readable[0] {
                    while let frames = try dealer!.receive(timeoutMs: 0, maxFrames: WireProtocol.maxFrames) {
                        lastHeard = now(); heardAny = true; unreachableSince = nil; backoff = options.reconnectInitial
                        if try handleCoordinator(frames) == false { return }
                    }
                }
                if readable[1] { try drainInbox() }
            }
            // Coordinator silent: reconnect on a fresh socket after a back-off (Paranoid Pirate).
            if !heardAny && unreachableSince == nil { unreachableSince = now() - options.heartbeatInterval * Double(options.liveness) }
            if let since = unreachableSince, let limit = options.giveUpAfter, now() - since >= limit {
                log.warning("coordinator \(coordinatorEndpoint) unreachable for \(Int(now() - since)) s; giving up")
                return
            }
            log.warning("coordinator silent; reconnecting in \(backoff) s")
            dealer?.close(); dealer = nil
            monitor?.close(); monitor = nil
            let until = now() + backoff
            while now() < until && !isStopping {
                let readable = try ZMQSocket.poll([inbox], fds: [mailbox.wakeDescriptor], timeoutMs: 50)
                if readable[1] { for item in mailbox.take() { item() } }
                if readable[0] { try drainInbox() }
            }
            backoff = min(options.reconnectMax, backoff * 2)
            if unreachableSince == nil { unreachableSince = now() }
        }
    }

    func now() -> Double { Date().timeIntervalSince1970 }

    private func connect() throws {
        generation += 1
        let s = try ZMQSocket(context, .dealer)
        try s.setString(ZMQ_ROUTING_ID, "\(options.workerID.prefix(200))#\(generation)")
        try s.setInt64(ZMQ_MAXMSGSIZE, WireProtocol.maxFrameBytes)
        if let curve = options.curve {
            guard let server = options.serverPublicKey else { throw ClusterError.config(key: "serverPublicKey", reason: "CURVE needs the coordinator's public key") }
            try s.setString(ZMQ_CURVE_SERVERKEY, server)
            try s.setString(ZMQ_CURVE_PUBLICKEY, curve.publicKey)
            try s.setString(ZMQ_CURVE_SECRETKEY, curve.secretKey)
        }
        // Also without keys: a coordinator that requires CURVE (the default) fails the handshake,
        // and a key-less worker must say so instead of reconnecting in silence for ever.
        try watchHandshakes(s)
        try s.connect(coordinatorEndpoint)
        dealer = s
        rejoin()
    }

    /// Subscribes to the socket's handshake events (before connecting, so none is missed).
    private func watchHandshakes(_ s: ZMQSocket) throws {
        monitor?.close(); monitor = nil
        let ep = "inproc://seafold-monitor-\(Token.make())"
        let events = ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
            | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED
        guard zmq_socket_monitor(s.handle, ep, events) == 0 else { throw ZMQContext.lastError("zmq_socket_monitor") }
        let m = try ZMQSocket(context, .pair)
        try m.connect(ep)
        monitor = m
        handshakeSucceeded = false
    }

    /// Counts failed CURVE handshakes: the coordinator's ZAP handler refusing this key
    /// (HANDSHAKE_FAILED_AUTH), a protocol failure, or — what a wrong coordinator.pub looks
    /// like from here — the connection closing before any handshake succeeded. Throws
    /// `.refused` naming the key files after `maxHandshakeFailures`.
    func drainMonitor() throws {
        guard let m = monitor else { return }
        while let f = try m.receive(timeoutMs: 0), let head = f.first, head.count >= 6 {
            let event = Int32(UInt16(head[head.startIndex]) | UInt16(head[head.startIndex + 1]) << 8)
            let status = head.dropFirst(2).prefix(4).enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
            let why: String
            switch event {
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
                handshakeSucceeded = true; handshakeFailures = 0; continue
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
                why = "the coordinator refused this worker's key (ZAP status \(status)): its public key is not in the coordinator's allow-list"
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL where options.curve == nil, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL where options.curve == nil:
                why = "the coordinator requires CURVE keys and this worker has none; give --keys DIR (for a coordinator started without --keys: its RUN/keys directory, with --name worker)"
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
                why = "the CURVE handshake failed (\(event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? "protocol error \(status)" : "no detail"))"
            case ZMQ_EVENT_DISCONNECTED where !handshakeSucceeded && options.curve == nil:
                if failureReported { failureReported = false; continue }
                why = "the coordinator closed the connection before any handshake (it may require CURVE keys; give --keys DIR)"
            case ZMQ_EVENT_DISCONNECTED where !handshakeSucceeded:
                // After a reported failure the disconnect is the same failure, not another.
                if failureReported { failureReported = false; continue }
                why = "the coordinator closed the connection during the CURVE handshake (is coordinator.pub the coordinator's current key?)"
            default: continue
            }
            failureReported = event != ZMQ_EVENT_DISCONNECTED
            handshakeFailures += 1
            log.error("cannot authenticate to \(coordinatorEndpoint) (\(handshakeFailures)/\(options.maxHandshakeFailures)): \(why); key files: \(options.keyFilesDescription)")
            if handshakeFailures >= options.maxHandshakeFailures {
                throw ClusterError.refused("\(why); check \(options.keyFilesDescription) (gave up after \(handshakeFailures) failed handshakes)")
            }
        }
    }

    /// Introduces this worker to a coordinator that does not know it (a new connection, or a
    /// RESET from a restarted coordinator on the same address, which ZeroMQ reconnects to
    /// silently). Results sent to the old coordinator may have been lost: resend them (the
    /// coordinator ignores duplicates by lease token). Transfers in flight lost their credits
    /// with the old coordinator: restart them from the beginning, or they would wait forever.
    private func rejoin() {
        sendReady()
        if let d = dealer { for r in recentResults { _ = try? d.send(r, timeoutMs: 0) } }
        for f in fetches.values { f.restart(); pump(f) }
        for u in uploads.values { u.restart(); startUpload(u) }
    }

    private func sendReady() {
        let h = ReadyHeader(workerID: options.workerID, codeVersion: options.codeVersion, threads: options.threads,
                            memoryBytes: options.memoryBytes, slots: max(1, options.slots), cached: cachedHashes(),
                            running: Array(running.keys), host: options.host, kernel: options.kernel)
        sendToCoordinator(WireMessage(.ready, h))
    }

    func sendToCoordinator(_ m: WireMessage) {
        guard let d = dealer else { return }
        _ = try? d.send(m.frames, timeoutMs: 0)
    }

    private func cachedHashes() -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        for dir in (try? fm.contentsOfDirectory(atPath: store.root.path)) ?? [] where dir.count == 2 {
            for f in (try? fm.contentsOfDirectory(atPath: store.root.appendingPathComponent(dir).path)) ?? [] where ArtifactStore.isValidHash(f) {
                out.append(f)
                if out.count >= 10_000 { return out }
            }
        }
        return out
    }

    /// Why an ASSIGN must not run here, or nil: the lease token names the scratch directory
    /// (removed afterwards) and every hash names a cache file, so each must be plain hex.
    static func unsafeAssignment(_ h: AssignHeader) -> String? {
        guard Token.isValid(h.leaseToken) else {
            return "lease token '\(LogText.escape(String(h.leaseToken.prefix(80))))' is not 128-bit hex"
        }
        for (name, e) in h.inputs {
            do { try ArtifactStore.validateName(name) } catch { return "input name: \(error)" }
            guard ArtifactStore.isValidHash(e.sha256), e.size >= 0 else { return "input '\(LogText.escape(name))' has hash '\(LogText.escape(String(e.sha256.prefix(80))))', not a sha256 hex digest" }
        }
        if let c = h.checkpoint, !ArtifactStore.isValidHash(c.sha256) || c.size < 0 {
            return "checkpoint hash '\(LogText.escape(String(c.sha256.prefix(80))))' is not a sha256 hex digest"
        }
        return nil
    }

    /// Handles one coordinator message; false means "return from run".
    private func handleCoordinator(_ frames: [Data]) throws -> Bool {
        let msg: WireMessage
        do { msg = try WireMessage.parse(frames) } catch {
            log.warning("dropped message from coordinator: \(error)")
            return true
        }
        switch msg.command {
        case .heartbeat: break
        case .assign:
            let h: AssignHeader
            do { h = try msg.decode(AssignHeader.self) } catch {
                log.warning("dropped ASSIGN: \(error)")
                return true
            }
            if let problem = Worker.unsafeAssignment(h) {
                // The token and hashes become paths under the cache: a coordinator (or anyone
                // who can pose as one) must not steer them elsewhere.
                log.error("refused ASSIGN for task \(LogText.escape(String(h.taskID.prefix(80)))): \(problem)")
                sendToCoordinator(WireMessage(.fail, FailHeader(leaseToken: String(h.leaseToken.prefix(64)), error: "worker refused the assignment: \(problem)")))
            } else if running.count >= max(1, options.slots) {
                sendToCoordinator(WireMessage(.fail, FailHeader(leaseToken: h.leaseToken, error: "worker busy")))
            } else {
                startTask(h, spec: msg.payload.first ?? Data())
            }
        case .chunk: onChunk(try msg.decode(ChunkHeader.self), data: msg.payload.first ?? Data())
        case .putAck: onPutAck(try msg.decode(PutAckHeader.self))
        case .reset: rejoin()
        case .cancel:
            // The runner notices at its next checkpoint/input call; its slot frees when it ends.
            let h = try msg.decode(CancelHeader.self)
            if running[h.leaseToken] != nil {
                stateLock.lock(); cancelled.insert(h.leaseToken); stateLock.unlock()
                log.warning("lease \(h.leaseToken.prefix(12)) cancelled by the coordinator")
            }
        case .refuse:
            let reason = (try? msg.decode(ReasonHeader.self).reason) ?? "no reason given"
            log.error("refused by coordinator: \(reason)")
            throw ClusterError.refused(reason)
        case .bye:
            log.info("coordinator said goodbye: \((try? msg.decode(ReasonHeader.self).reason) ?? "")")
            return false
        default:
            log.warning("dropped \(msg.command.rawValue): not a coordinator-to-worker command")
        }
        return true
    }
}

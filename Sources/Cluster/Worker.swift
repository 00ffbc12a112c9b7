import CZeroMQ
import Foundation
import Logging

/// Settings of a worker. Defaults follow the Paranoid Pirate figures in REFERENCE.md.
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
    public var logger = Logger(label: "seafold.worker")

    public init(codeVersion: String, cacheDirectory: URL) {
        self.codeVersion = codeVersion
        self.cacheDirectory = cacheDirectory
        let host = ProcessInfo.processInfo.hostName
        workerID = "\(host)-\(getpid())-\(Token.make().prefix(6))"
    }
}

/// A worker: connects a DEALER to the coordinator, announces itself (READY), runs each
/// assigned task with `runner` on its own thread, and keeps heartbeats, fetches and uploads
/// going on the I/O thread meanwhile (runner threads talk to it over inproc sockets).
/// `run` returns on BYE, `stop()`, or `giveUpAfter`; it throws `.refused` when refused.
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
        defer { dealer?.close(); inbox.close() }

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
                let readable = try ZMQSocket.poll([dealer!, inbox], fds: [mailbox.wakeDescriptor], timeoutMs: wait)
                if readable[2] { for item in mailbox.take() { item() } }
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
        try s.connect(coordinatorEndpoint)
        dealer = s
        rejoin()
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
                            running: Array(running.keys), host: ProcessInfo.processInfo.hostName)
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
            let h = try msg.decode(AssignHeader.self)
            if running.count >= max(1, options.slots) {
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

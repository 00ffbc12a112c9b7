import CZeroMQ
import Foundation

struct PutRequest: Codable { var sha256: String; var size: Int64; var path: String; var checkpoint: Bool?; var leaseToken: String? }

extension Worker {
    /// Starts a runner thread for one lease.
    func startTask(_ h: AssignHeader, spec: Data) {
        let assignment = TaskAssignment(taskID: h.taskID, kind: h.kind, label: h.label, spec: spec, attempt: h.attempt, leaseToken: h.leaseToken)
        running[h.leaseToken] = Data(h.leaseToken.utf8)
        let scratch = options.cacheDirectory.appendingPathComponent("scratch", isDirectory: true).appendingPathComponent(h.leaseToken, isDirectory: true)
        let t = Thread { [self] in
            runTask(assignment, inputs: h.inputs, checkpoint: h.checkpoint, scratch: scratch)
        }
        t.name = "seafold-task-\(h.label)"
        t.stackSize = 16 << 20
        t.start()
    }

    private func runTask(_ a: TaskAssignment, inputs: [String: ManifestEntry], checkpoint: ManifestEntry?, scratch: URL) {
        guard let sock = try? ZMQSocket(context, .dealer) else { return }
        try? sock.setInt(ZMQ_LINGER, 2000)
        try? sock.setString(ZMQ_ROUTING_ID, a.leaseToken)
        guard (try? sock.connect(inboxEndpoint)) != nil else { return }
        defer { sock.close() }
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: scratch) }
        let ctx = RunnerContext(worker: self, socket: sock, assignment: a, inputs: inputs, checkpoint: checkpoint, scratchDirectory: scratch)
        defer { stateLock.lock(); cancelled.remove(a.leaseToken); stateLock.unlock() }
        do {
            let outcome = try runner(a, ctx)
            // A cancelled lease's outputs would be ignored: do not upload them.
            try ctx.checkCancelled()
            var manifest: [String: String] = [:]
            for (name, url) in outcome.artifacts.sorted(by: { $0.key < $1.key }) {
                try ArtifactStore.validateName(name)
                manifest[name] = try ctx.upload(url)
            }
            _ = try? sock.send([Data("done".utf8), try WireMessage.encoder.encode(DoneHeader(leaseToken: a.leaseToken, artifacts: manifest)), outcome.result])
            // The result supersedes the task's checkpoints (a failed task keeps its own).
            LocalCheckpoints(cache: options.cacheDirectory).remove(a.taskID)
        } catch {
            let text = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            _ = try? sock.send([Data("fail".utf8), (try? WireMessage.encoder.encode(FailHeader(leaseToken: a.leaseToken, error: text))) ?? Data()])
        }
    }

    /// Requests from runner threads (I/O thread).
    func drainInbox() throws {
        while let f = try inbox.receive(timeoutMs: 0), f.count >= 3 {
            let who = f[0], cmd = String(decoding: f[1], as: UTF8.self), json = f[2]
            switch cmd {
            case "fetch":
                guard let e = try? WireMessage.decoder.decode(ManifestEntry.self, from: json) else { replyToRunner(who, "bad request"); continue }
                startFetch(hash: e.sha256, size: e.size, waiter: who)
            case "put":
                guard let r = try? WireMessage.decoder.decode(PutRequest.self, from: json) else { replyToRunner(who, "bad request"); continue }
                startUpload(OutboundUpload(hash: r.sha256, size: r.size, file: URL(fileURLWithPath: r.path), waiter: who,
                                           checkpointLease: r.checkpoint == true ? r.leaseToken ?? "" : nil))
            case "progress":
                var m = WireMessage(.progress, Empty()); m.header = json
                sendToCoordinator(m)
            case "checkpoint":
                var m = WireMessage(.checkpoint, Empty()); m.header = json
                sendToCoordinator(m)
            case "done", "fail":
                var m = WireMessage(cmd == "done" ? .done : .fail, Empty())
                m.header = json
                m.payload = Array(f.dropFirst(3))
                running[String(decoding: who, as: UTF8.self)] = nil
                recentResults.append(m.frames)
                if recentResults.count > 16 { recentResults.removeFirst() }
                stateLock.lock(); completed += 1; stateLock.unlock()
                sendToCoordinator(m)
            default:
                log.warning("runner sent unknown request \(cmd)")
            }
        }
    }

    /// True if the cached file was verified by hash and has not been replaced or rewritten since.
    func isVerified(_ hash: String) -> Bool {
        let sig = fileIdentity(hash)
        stateLock.lock(); defer { stateLock.unlock() }
        return sig != nil && verified[hash] == sig
    }

    func markVerified(_ hash: String) {
        let sig = fileIdentity(hash)
        stateLock.lock(); verified[hash] = sig; stateLock.unlock()
    }

    /// Device, inode, size and modification time (ns) of a cached artifact, or nil if absent.
    func fileIdentity(_ hash: String) -> [Int]? { store.fileIdentity(hash) }
}

/// The `TaskContext` a runner sees; every call goes through the worker's I/O thread.
final class RunnerContext: TaskContext {
    unowned let worker: Worker
    let socket: ZMQSocket
    let assignment: TaskAssignment
    let inputs: [String: ManifestEntry]
    let checkpoint: ManifestEntry?
    let scratchDirectory: URL

    init(worker: Worker, socket: ZMQSocket, assignment: TaskAssignment, inputs: [String: ManifestEntry], checkpoint: ManifestEntry?, scratchDirectory: URL) {
        self.worker = worker; self.socket = socket; self.assignment = assignment
        self.inputs = inputs; self.checkpoint = checkpoint; self.scratchDirectory = scratchDirectory
    }

    var isCancelled: Bool {
        worker.stateLock.lock(); defer { worker.stateLock.unlock() }
        return worker.cancelled.contains(assignment.leaseToken)
    }

    func input(_ name: String) throws -> URL {
        try checkCancelled()
        guard let e = inputs[name] else {
            throw ClusterError.task(id: assignment.taskID, reason: "has no input named '\(name)'; its inputs are \(inputs.keys.sorted())")
        }
        return try local(e)
    }

    /// The checkpoints of this lineage the coordinator holds (see `LocalCheckpoints`).
    private var lineage: [String] = []

    /// The newest resume point: this cache's own checkpoint of the task unless the coordinator
    /// holds one from another lineage (a worker that ran the task after this cache did).
    func latestCheckpoint() throws -> URL? {
        try checkCancelled()
        let localStore = LocalCheckpoints(cache: worker.options.cacheDirectory)
        if let meta = localStore.meta(assignment.taskID), checkpoint == nil || meta.uploaded.contains(checkpoint!.sha256) || meta.sha256 == checkpoint!.sha256 {
            let url = localStore.file(assignment.taskID)
            if (try? ArtifactStore.sha256(of: url)) == meta.sha256 {
                lineage = meta.uploaded
                return url
            }
            worker.log.warning("local checkpoint of \(assignment.label) is damaged; using the coordinator's")
            localStore.remove(assignment.taskID)
        }
        lineage = checkpoint.map { [$0.sha256] } ?? []
        return try checkpoint.map(local)
    }

    func progress(_ fraction: Double, _ message: String) {
        let h = ProgressHeader(leaseToken: assignment.leaseToken, fraction: fraction, message: message)
        _ = try? socket.send([Data("progress".utf8), try WireMessage.encoder.encode(h)])
    }

    /// Keeps the checkpoint in the worker's cache (a rename: free), and uploads it to the
    /// coordinator only when uploads stay within `checkpointUploadShare` of the time between
    /// them (measured on the previous upload of this task), so checkpoints cost little and a
    /// worker that dies loses at most the epochs since the last upload.
    func saveCheckpoint(_ file: URL) throws {
        try checkCancelled()
        let localStore = LocalCheckpoints(cache: worker.options.cacheDirectory)
        let hash = try ArtifactStore.sha256(of: file)
        let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value ?? 0
        let previous = localStore.meta(assignment.taskID)
        var meta = LocalCheckpoints.Meta(sha256: hash, size: size, uploaded: lineage, savedAt: Date().timeIntervalSince1970,
                                         uploadSeconds: previous?.uploadSeconds, uploadEndedAt: previous?.uploadEndedAt)
        try localStore.keep(assignment.taskID, file: file, meta: meta)
        let share = worker.options.checkpointUploadShare
        let now = Date().timeIntervalSince1970
        let due: Bool
        if share <= 0 { due = false } else if share >= 1 { due = true } else if let cost = meta.uploadSeconds, let end = meta.uploadEndedAt {
            due = now - end >= cost / share
        } else { due = true }
        guard due else { return }
        let t0 = Date().timeIntervalSince1970
        let reply = try request("put", PutRequest(sha256: hash, size: size, path: localStore.file(assignment.taskID).path, checkpoint: true, leaseToken: assignment.leaseToken))
        let t1 = Date().timeIntervalSince1970
        meta.uploadSeconds = t1 - t0; meta.uploadEndedAt = t1
        if reply == nil {
            _ = try socket.send([Data("checkpoint".utf8), try WireMessage.encoder.encode(CheckpointHeader(leaseToken: assignment.leaseToken, sha256: hash))])
            lineage.append(hash)
            meta.uploaded = lineage
            worker.log.info("checkpoint of \(assignment.label) stored on the coordinator: \(size / 1_000_000) MB in \(String(format: "%.2f", t1 - t0)) s")
        } else {
            worker.log.info("checkpoint of \(assignment.label) kept on this worker only: \(reply!)")
        }
        try localStore.write(meta, assignment.taskID)
    }

    /// Uploads a file to the coordinator's store; returns its sha256.
    func upload(_ file: URL) throws -> String {
        let hash = try ArtifactStore.sha256(of: file)
        let attrs = try? FileManager.default.attributesOfItem(atPath: file.path)
        let size = (attrs?[.size] as? NSNumber)?.int64Value ?? 0
        if let declined = try request("put", PutRequest(sha256: hash, size: size, path: file.path)) {
            throw ClusterError.transfer("upload of \(file.lastPathComponent) declined: \(declined)")
        }
        return hash
    }

    /// A verified local copy of an artifact: the cache if intact, else fetched again.
    private func local(_ e: ManifestEntry) throws -> URL {
        let path = try worker.store.path(for: e.sha256)
        if worker.store.contains(e.sha256) {
            if worker.isVerified(e.sha256) { return path }
            if worker.store.verify(e.sha256) { worker.markVerified(e.sha256); return path }
            worker.log.warning("cached artifact \(e.sha256.prefix(16))… is corrupt; fetching it again")
            worker.store.remove(e.sha256)
        }
        try request("fetch", e)
        return path
    }

    /// Asks the I/O thread; nil when done, the reason when an upload was declined (not an
    /// error: the coordinator is at its disk budget); throws on failure.
    @discardableResult
    private func request<T: Encodable>(_ cmd: String, _ body: T) throws -> String? {
        _ = try socket.send([Data(cmd.utf8), try WireMessage.encoder.encode(body)])
        guard let reply = try socket.receive(), reply.count >= 2 else { throw ClusterError.transfer("no reply from the worker's I/O thread") }
        switch String(decoding: reply[0], as: UTF8.self) {
        case "ok": return nil
        case "declined": return String(decoding: reply[1], as: UTF8.self)
        default: throw ClusterError.transfer(String(decoding: reply[1], as: UTF8.self))
        }
    }
}

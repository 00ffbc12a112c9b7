import Foundation

/// An upload in progress from a worker. Its bytes are hashed and written by the artifact's own
/// writer thread; the serving thread only queues them and sends acknowledgements.
final class InboundUpload {
    let peer: Data
    let transferID: String
    let sha256: String
    let size: Int64
    let checkpoint: Bool
    let pending: PendingArtifact
    /// Distinguishes this upload from a restarted one with the same transfer id, so a late
    /// callback of the abandoned writer acknowledges nothing.
    let serial: Int
    init(peer: Data, transferID: String, sha256: String, size: Int64, checkpoint: Bool, pending: PendingArtifact, serial: Int) {
        self.peer = peer; self.transferID = transferID; self.sha256 = sha256; self.size = size
        self.checkpoint = checkpoint; self.pending = pending; self.serial = serial
    }

    /// What the serving thread needs once the artifact is committed on another thread.
    var receipt: UploadReceipt { UploadReceipt(peer: peer, transferID: transferID, sha256: sha256, size: size, checkpoint: checkpoint) }
}

/// An upload whose bytes are written: the fields of `InboundUpload` that outlive its file.
struct UploadReceipt: Sendable {
    let peer: Data
    let transferID: String
    let sha256: String
    let size: Int64
    let checkpoint: Bool
}

/// Uploads (PUT / PUTCHUNK / PUTACK). The serving thread never hashes, writes or fsyncs: each
/// upload has a writer thread (`ArtifactWriter`) that reports every chunk it has written through
/// the `Mailbox`, and only then is the chunk acknowledged (the sender's credit follows the
/// disk, and at most `credit` chunks of one upload wait in memory). The final fsync and rename
/// run on a thread of their own; their outcome comes back through the mailbox, where the
/// ledger row is written and the closing PUTACK sent. So a 700 MB checkpoint moves while
/// heartbeats and leases keep their rhythm.
extension Coordinator {
    /// Concurrent uploads one connection may hold (each holds a file descriptor and a thread).
    static let maxUploadsPerPeer = 4

    func onPut(_ peer: Data, _ h: PutHeader, now: Double) throws {
        guard peers[peer] != nil else {
            _ = send(peer, WireMessage(.reset, ReasonHeader(reason: "unknown worker; send READY")))
            return
        }
        func ack(_ complete: Bool, _ error: String?, declined: String? = nil) {
            _ = send(peer, WireMessage(.putAck, PutAckHeader(transferID: h.transferID, offset: nil, complete: complete, error: error, declined: declined)))
        }
        guard ArtifactStore.isValidHash(h.sha256), h.size >= 0, h.size <= WireProtocol.maxArtifactBytes, h.transferID.count <= 64 else {
            return ack(true, "bad PUT header")
        }
        if store.contains(h.sha256) { return ack(true, nil) }
        if let old = uploads[h.transferID] {
            guard old.peer == peer else { return ack(true, "transfer id in use by another connection") }
            old.pending.abandon(); uploads[h.transferID] = nil
        }
        if let problem = storageProblem { return ack(true, problem) }
        if uploads.values.filter({ $0.peer == peer }).count >= Coordinator.maxUploadsPerPeer {
            return ack(true, "\(Coordinator.maxUploadsPerPeer) uploads from this worker are already in progress; send one at a time")
        }
        if h.checkpoint == true, let reason = admitCheckpoint(size: h.size, lease: h.leaseToken, peer: peer, now: now) {
            let who = peers[peer]?.workerID
            do { try ledger.commit(events: [EventRecord(time: now, kind: "checkpoint-declined", task: nil, worker: who, detail: reason)]) } catch {
                storageFailed(error, path: ledger.path, now: now)
            }
            log.notice("checkpoint upload from \(who ?? "?") declined: \(reason)")
            return ack(true, nil, declined: reason)
        }
        nextUploadSerial += 1
        let serial = nextUploadSerial, transferID = h.transferID
        let pending: PendingArtifact
        do {
            pending = try store.beginWrite(onWritten: { [weak self] total in
                self?.mailbox.post { [weak self] in self?.uploadWritten(transferID, serial: serial, total: total) }
            })
        } catch {
            storageFailed(error, path: store.root.path, now: now)
            return ack(true, storageProblem ?? "\(error)")
        }
        let u = InboundUpload(peer: peer, transferID: h.transferID, sha256: h.sha256, size: h.size,
                              checkpoint: h.checkpoint == true, pending: pending, serial: serial)
        if h.size == 0 { return finishUpload(u) }
        uploads[h.transferID] = u
        ack(false, nil)
    }

    func onPutChunk(_ peer: Data, _ h: PutChunkHeader, data: Data, now: Double) throws {
        guard let u = uploads[h.transferID], u.peer == peer else {
            _ = send(peer, WireMessage(.putAck, PutAckHeader(transferID: h.transferID, offset: h.offset, complete: true, error: "unknown transfer")))
            return
        }
        guard h.offset == u.pending.written, u.pending.written + Int64(data.count) <= u.size, !data.isEmpty else {
            return abandonUpload(u, error: "chunk at \(h.offset) out of order or past the declared size", offset: h.offset)
        }
        do { try u.pending.append(data) } catch {
            storageFailed(error, path: u.pending.url.path, now: now)
            return abandonUpload(u, error: "\(error)", offset: h.offset)
        }
        // The last chunk is answered by the closing PUTACK once the file is durable.
        if u.pending.written == u.size {
            uploads[h.transferID] = nil
            finishUpload(u)
        }
    }

    /// From the writer thread, via the mailbox: one more chunk reached the file; return its
    /// credit. (Once the last chunk is queued the upload is finishing and needs no credits.)
    func uploadWritten(_ transferID: String, serial: Int, total: Int64) {
        guard let u = uploads[transferID], u.serial == serial else { return }
        _ = send(u.peer, WireMessage(.putAck, PutAckHeader(transferID: transferID, offset: total, complete: false, error: nil)))
    }

    private func abandonUpload(_ u: InboundUpload, error: String, offset: Int64?) {
        u.pending.abandon()
        uploads[u.transferID] = nil
        _ = send(u.peer, WireMessage(.putAck, PutAckHeader(transferID: u.transferID, offset: offset, complete: true, error: storageProblem ?? error)))
    }

    /// Waits for the writer, fsyncs and renames on another thread; the ledger row and the
    /// closing PUTACK follow on the serving thread.
    private func finishUpload(_ u: InboundUpload) {
        committingBytes += u.size
        if u.checkpoint { committingCheckpointBytes += u.size }
        let receipt = u.receipt
        u.pending.commitInBackground(expected: u.sha256) { [weak self] result in
            self?.mailbox.post { [weak self] in self?.uploadCommitted(receipt, result) }
        }
    }

    private func uploadCommitted(_ u: UploadReceipt, _ result: Result<String, Error>) {
        committingBytes -= u.size
        if u.checkpoint { committingCheckpointBytes -= u.size }
        let now = Date().timeIntervalSince1970
        var error: String?
        switch result {
        case .success:
            do {
                try ledger.commit(artifacts: [(u.sha256, u.size, "upload:\(peers[u.peer]?.workerID ?? "?")")])
                peers[u.peer]?.cached.insert(u.sha256)
            } catch {
                storageFailed(error, path: ledger.path, now: now)
            }
            if !u.checkpoint { checkBudget(now: now) }
            // A restarted copy of the same bytes (the worker reconnected meanwhile) is moot now.
            for (tid, other) in uploads where other.sha256 == u.sha256 && other.peer == u.peer {
                other.pending.abandon(); uploads[tid] = nil
            }
        case let .failure(e):
            // Out of space here: the worker's FAIL that follows is not held against anyone.
            if storageFailed(e, path: store.root.path, now: now), let w = peers[u.peer]?.workerID { refusedForSpace.insert(w) }
            error = storageProblem ?? "\(e)"
        }
        _ = send(u.peer, WireMessage(.putAck, PutAckHeader(transferID: u.transferID, offset: nil, complete: true, error: error)))
    }

    /// Runs what other threads posted (upload progress and completions).
    func drainMailbox() {
        for item in mailbox.take() { item() }
    }
}

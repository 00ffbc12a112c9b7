import Foundation

/// A download in progress (worker side): at most `credit` chunk requests outstanding.
final class OutboundFetch {
    let hash: String
    let size: Int64
    var pending: PendingArtifact?
    var next: Int64 = 0
    /// Chunks requested and not yet written to the file (credits follow the disk).
    var inFlight = 0
    /// Bumped on restart, so a late write report of the abandoned file returns no credit.
    var generation = 0
    var waiters: [Data] = []
    let store: ArtifactStore
    init(hash: String, size: Int64, store: ArtifactStore) { self.hash = hash; self.size = size; self.store = store }
    func restart() { pending?.abandon(); pending = nil; next = 0; inFlight = 0; generation += 1 }
}

/// An upload in progress (worker side): at most `credit` chunks unacknowledged.
final class OutboundUpload {
    let id = Token.make()
    let hash: String
    let size: Int64
    let file: URL
    var handle: FileHandle?
    var sent: Int64 = 0
    var inFlight = 0
    var accepted = false
    let waiter: Data
    /// Set for a checkpoint: the lease it belongs to.
    let checkpointLease: String?
    init(hash: String, size: Int64, file: URL, waiter: Data, checkpointLease: String? = nil) {
        self.hash = hash; self.size = size; self.file = file; self.waiter = waiter; self.checkpointLease = checkpointLease
    }
    func restart() { try? handle?.close(); handle = nil; sent = 0; inFlight = 0; accepted = false }
}

extension Worker {
    func replyToRunner(_ runner: Data, _ error: String?, declined: String? = nil) {
        let kind = declined != nil ? "declined" : error == nil ? "ok" : "err"
        _ = try? inbox.send([runner, Data(kind.utf8), Data((declined ?? error ?? "").utf8)], timeoutMs: 0)
    }

    func startFetch(hash: String, size: Int64, waiter: Data) {
        if store.contains(hash) { return replyToRunner(waiter, nil) }
        if let f = fetches[hash] { f.waiters.append(waiter); return }
        let f = OutboundFetch(hash: hash, size: size, store: store)
        f.waiters = [waiter]
        fetches[hash] = f
        pump(f)
    }

    func pump(_ f: OutboundFetch) {
        if f.pending == nil {
            let generation = f.generation, hash = f.hash
            do {
                f.pending = try store.beginWrite(onWritten: { [weak self] _ in
                    self?.mailbox.post { [weak self] in self?.fetchWritten(hash, generation: generation) }
                })
            } catch { return finishFetch(f, "\(error)") }
        }
        if f.size == 0 { return finishFetch(f, nil) }
        guard dealer != nil else { return }
        while f.inFlight < WireProtocol.credit && f.next < f.size {
            let len = Int(min(Int64(WireProtocol.chunkSize), f.size - f.next))
            sendToCoordinator(WireMessage(.fetch, FetchHeader(sha256: f.hash, offset: f.next, length: len)))
            f.next += Int64(len)
            f.inFlight += 1
        }
    }

    func onChunk(_ h: ChunkHeader, data: Data) {
        guard let f = fetches[h.sha256], let p = f.pending else { return }
        if let e = h.error { return finishFetch(f, "coordinator: \(e)") }
        guard h.offset == p.written, h.total == f.size, !data.isEmpty else { return finishFetch(f, "chunk at \(h.offset) (total \(h.total)) does not follow \(p.written) of \(f.size)") }
        do { try p.append(data) } catch { return finishFetch(f, "\(error)") }
        if p.written >= f.size { finishFetch(f, nil) }
    }

    /// From the writer thread, via the mailbox: a chunk reached the cache file; ask for the next.
    func fetchWritten(_ hash: String, generation: Int) {
        guard let f = fetches[hash], f.generation == generation else { return }
        f.inFlight -= 1
        pump(f)
    }

    private func finishFetch(_ f: OutboundFetch, _ error: String?) {
        fetches[f.hash] = nil
        var err = error
        if err == nil, let p = f.pending {
            // No fsync: a cached file is hashed again before its first use in any later process.
            do { try p.commit(expected: f.hash, durable: false) } catch { err = "\(error)" }
        } else { f.pending?.abandon() }
        if err == nil { markVerified(f.hash) }
        for w in f.waiters { replyToRunner(w, err.map { "fetch \(f.hash.prefix(16))…: \($0)" }) }
    }

    func startUpload(_ u: OutboundUpload) {
        uploads[u.id] = u
        sendToCoordinator(WireMessage(.put, PutHeader(transferID: u.id, sha256: u.hash, size: u.size, checkpoint: u.checkpointLease != nil ? true : nil,
                                                             leaseToken: u.checkpointLease)))
    }

    func onPutAck(_ h: PutAckHeader) {
        guard let u = uploads[h.transferID] else { return }
        if h.complete {
            uploads[u.id] = nil
            try? u.handle?.close()
            return replyToRunner(u.waiter, h.error.map { "upload \(u.file.lastPathComponent): \($0)" }, declined: h.declined)
        }
        if h.offset == nil { u.accepted = true } else { u.inFlight -= 1 }
        pumpUpload(u)
    }

    private func pumpUpload(_ u: OutboundUpload) {
        guard u.accepted, dealer != nil else { return }
        if u.handle == nil {
            guard let fh = FileHandle(forReadingAtPath: u.file.path) else {
                uploads[u.id] = nil
                return replyToRunner(u.waiter, "cannot open \(u.file.path)")
            }
            u.handle = fh
        }
        while u.inFlight < WireProtocol.credit && u.sent < u.size {
            let want = Int(min(Int64(WireProtocol.chunkSize), u.size - u.sent))
            guard let bytes = try? u.handle?.read(upToCount: want), bytes.count == want else {
                uploads[u.id] = nil
                return replyToRunner(u.waiter, "\(u.file.path) changed while uploading")
            }
            sendToCoordinator(WireMessage(.putChunk, PutChunkHeader(transferID: u.id, offset: u.sent), payload: [bytes]))
            u.sent += Int64(want)
            u.inFlight += 1
        }
    }
}

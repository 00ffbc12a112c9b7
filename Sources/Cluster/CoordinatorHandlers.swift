import Foundation
import Scheduling

/// Incoming message handling (one message at a time, under the coordinator's lock).
extension Coordinator {
    func handle(_ frames: [Data]) {
        handledMessages += 1
        guard let peer = frames.first, frames.count >= 2 else { return }
        let now = Date().timeIntervalSince1970
        let msg: WireMessage
        do { msg = try WireMessage.parse(Array(frames.dropFirst())) } catch let ClusterError.refused(reason) {
            dropped(reason, from: peer)
            _ = send(peer, WireMessage(.refuse, ReasonHeader(reason: reason)))
            return
        } catch { dropped("\(error)", from: peer); return }

        // ROUTER_HANDOVER lets a new connection take over a routing id: another key's holder
        // could set this worker's id on its DEALER and speak on its leases. Only the key that
        // said READY may speak for the connection.
        if options.curve != nil, let p = peers[peer], p.keyName != router.lastUserID {
            dropped("\(msg.command.rawValue) from key '\(LogText.escape(router.lastUserID ?? "?"))' on the connection of \(p.workerID) (key '\(p.keyName ?? "?")')", from: peer)
            return
        }
        if peers[peer] != nil { peers[peer]!.lastSeen = now }
        do {
            switch msg.command {
            case .ready: try onReady(peer, msg, now: now)
            case .heartbeat: if peers[peer] == nil { _ = send(peer, WireMessage(.reset, ReasonHeader(reason: "unknown worker; send READY"))) }
            case .progress: try onProgress(peer, msg.decode(ProgressHeader.self), now: now)
            case .checkpoint: try onCheckpoint(peer, msg.decode(CheckpointHeader.self), now: now)
            case .done: try onDone(peer, msg, now: now)
            case .fail:
                var h = try msg.decode(FailHeader.self)
                h.error = LogText.escape(h.error)
                try onResult(peer, token: h.leaseToken, now: now) { _ in
                    guard let worker = peers[peer]?.workerID else { return }
                    if h.error == Coordinator.busyText {
                        apply(sched.handle(.busy(lease: h.leaseToken, worker: worker), now: now), now: now)
                        return
                    }
                    apply(sched.handle(.failed(lease: h.leaseToken, worker: worker, blame: blame(of: h.error, worker: worker), error: h.error), now: now), now: now)
                }
            case .fetch:
                let h = try msg.decode(FetchHeader.self)
                if h.offset == 0, !verifyBeforeServing(h.sha256, to: peer, now: now) { return }
                try onFetch(peer, h)
            case .put:
                let h = try msg.decode(PutHeader.self)
                try onPut(peer, h, now: now)
                noteRefusal(peer, transferID: h.transferID, sha256: h.sha256)
            case .putChunk:
                let h = try msg.decode(PutChunkHeader.self)
                let sha = uploads[h.transferID]?.sha256
                try onPutChunk(peer, h, data: msg.payload.first ?? Data(), now: now)
                if let sha { noteRefusal(peer, transferID: h.transferID, sha256: sha) }
            case .bye:
                peerLost(peer, reason: "said goodbye", now: now, state: "gone", why: .bye)
            case .assign, .chunk, .putAck, .refuse, .reset, .cancel:
                dropped("\(msg.command.rawValue) is not a worker-to-coordinator command", from: peer)
            }
        } catch {
            storageFailed(error, path: ledger.path, now: now)
            dropped("\(msg.command.rawValue): \(error)", from: peer)
        }
    }

    private func requirePeer(_ peer: Data) -> Bool {
        if peers[peer] != nil { return true }
        _ = send(peer, WireMessage(.reset, ReasonHeader(reason: "unknown worker; send READY")))
        return false
    }

    private func onReady(_ peer: Data, _ msg: WireMessage, now: Double) throws {
        let h = try msg.decode(ReadyHeader.self)
        // Peer text is escaped as it comes in, so no log line, ledger row or status screen
        // carries a worker's control characters to an operator's terminal.
        var rec = WorkerRecord(id: LogText.escape(String(h.workerID.prefix(200))), host: LogText.escape(String(h.host.prefix(200))),
                               codeVersion: LogText.escape(String(h.codeVersion.prefix(200))),
                               threads: h.threads, memoryBytes: h.memoryBytes, slots: max(1, min(h.slots, 64)),
                               firstSeen: now, lastSeen: now, state: "connected",
                               kernel: h.kernel.map { LogText.escape(String($0.prefix(100))) })
        guard h.codeVersion == options.codeVersion else {
            rec.state = "refused"
            return try refuse(peer, recording: rec, workerID: rec.id, reason: "worker \(rec.id) runs code version '\(rec.codeVersion)' but this coordinator runs '\(options.codeVersion)'; install the same seafold version on both", now: now)
        }
        // With CURVE, the key decides which ids a connection may claim (the ZAP handler named
        // the key's file): an allow-listed key must not take over another key's workers. No
        // workers row is written: the claimed id may be a live worker's.
        if options.curve != nil {
            let keyName = router.lastUserID ?? ""
            guard KeyFiles.keyName(keyName, mayClaim: rec.id) else {
                return try refuse(peer, recording: nil, workerID: rec.id, reason: "worker id '\(rec.id)' does not belong to the key '\(LogText.escape(keyName)).pub' it authenticated with; ids must be NAME or NAME-HEX for key NAME", now: now)
            }
        }
        // The same worker on an older connection: that connection goes; the Scheduler keeps the
        // leases the worker still runs and ends the others (an eviction counts against nobody).
        peerOf[rec.id] = peer
        for (oldID, old) in peers where old.workerID == rec.id && oldID != peer {
            peerLost(oldID, reason: "reconnected", now: now, state: "reconnected", why: .evicted)
        }
        if let first = try? ledger.firstSeen(worker: rec.id) { rec.firstSeen = first }
        var p = Peer(routingID: peer, workerID: rec.id, host: rec.host, slots: rec.slots, record: rec, lastSeen: now,
                     nextHeartbeat: now, cached: Set(h.cached.prefix(100_000)))
        p.keyName = options.curve != nil ? router.lastUserID : nil
        if peers[peer] == nil { peerOrder.append(peer) }
        peers[peer] = p
        apply(sched.handle(.workerJoined(worker: rec.id, slots: rec.slots, running: h.running), now: now), now: now)
        // The worker is in from here on, even if the ledger cannot record it (full disk):
        // schedule anyway, or it would idle until some other event.
        dirty = true
        try ledger.commit(workers: [rec], events: [EventRecord(time: now, kind: "worker-joined", task: nil, worker: rec.id,
                                                              detail: "\(rec.host) threads \(rec.threads) slots \(rec.slots)" + (rec.kernel.map { " kernel \($0)" } ?? ""))])
        log.info("worker \(rec.id) joined from \(rec.host)")
        dirty = true
    }

    /// Records a refused READY (a `worker-refused` event, and the worker row when given), then
    /// answers REFUSE: ledger first, so whoever sees the REFUSE can rely on the ledger saying so.
    /// A commit error is still thrown after the answer.
    private func refuse(_ peer: Data, recording rec: WorkerRecord?, workerID: String, reason: String, now: Double) throws {
        log.error("refused: \(reason)")
        let event = EventRecord(time: now, kind: "worker-refused", task: nil, worker: workerID, detail: reason)
        let recorded = Result { try ledger.commit(workers: rec.map { [$0] } ?? [], events: [event]) }
        _ = send(peer, WireMessage(.refuse, ReasonHeader(reason: reason)))
        try recorded.get()
    }

    private func onProgress(_ peer: Data, _ h: ProgressHeader, now: Double) throws {
        guard requirePeer(peer), holds(peer, h.leaseToken), let a = attempts[h.leaseToken], var t = tasks[a.taskID], t.currentLease == h.leaseToken else { return }
        t.progress = h.fraction.isFinite ? min(1, max(0, h.fraction)) : 0
        t.progressMessage = LogText.escape(String(h.message.prefix(200)))
        tasks[t.id] = t
        if now - (lastProgressPersist[t.id] ?? 0) >= 1 {
            lastProgressPersist[t.id] = now
            try ledger.commit(tasks: [t])
        }
    }

    private func onCheckpoint(_ peer: Data, _ h: CheckpointHeader, now: Double) throws {
        guard requirePeer(peer), let a = attempts[h.leaseToken], var t = tasks[a.taskID], t.currentLease == h.leaseToken,
              holds(peer, h.leaseToken) else {
            try ledger.commit(events: [EventRecord(time: now, kind: "stale", task: nil, worker: peers[peer]?.workerID, detail: "CHECKPOINT for lease \(h.leaseToken.prefix(12)) that is not current or not held by this worker")])
            return
        }
        guard store.contains(h.sha256) else { throw ClusterError.badArtifact("checkpoint \(h.sha256.prefix(16)) was not uploaded") }
        let previous = t.checkpoint
        t.checkpoint = h.sha256
        tasks[t.id] = t
        try ledger.commit(tasks: [t], events: [EventRecord(time: now, kind: "checkpoint", task: t.id, worker: a.workerID, detail: h.sha256)])
        if previous != h.sha256 { discardCheckpoint(previous) }
    }

    private func onDone(_ peer: Data, _ msg: WireMessage, now: Double) throws {
        let h = try msg.decode(DoneHeader.self)
        let result = msg.payload.first ?? Data()
        try onResult(peer, token: h.leaseToken, now: now) { taskID in
            for (name, hash) in h.artifacts {
                do {
                    try ArtifactStore.validateName(name)
                    guard store.contains(hash) else { throw ClusterError.badArtifact("'\(name)' (\(hash.prefix(16))…) was not uploaded") }
                } catch {
                    apply(sched.handle(.failed(lease: h.leaseToken, worker: peers[peer]?.workerID ?? "", blame: .task, error: "result rejected: \(error)"), now: now), now: now)
                    return
                }
            }
            guard var t = tasks[taskID], var a = attempts[h.leaseToken] else { return }
            _ = sched.handle(.done(lease: h.leaseToken, worker: a.workerID), now: now)
            let before = t, running = a
            // The result supersedes the checkpoint (deleted once the result is durable).
            t.state = .done; t.result = result; t.artifacts = h.artifacts; t.currentLease = nil; t.checkpoint = nil
            t.progress = 1; t.finishedAt = now; t.lastError = nil
            a.endedAt = now; a.outcome = .done
            let event = EventRecord(time: now, kind: "done", task: t.id, worker: a.workerID, detail: "attempt \(a.attempt)")
            if resultBatch != nil {
                // Group commit: the rows go with the batch's one transaction (dispatch's, else
                // flushResults), which undoes all this if it fails; nothing outside this lock
                // hold sees "done" before it commits (CoordinatorBatching).
                resultBatch!.append(StagedDone(before: before, running: running, done: t, ended: a, event: event))
                attempts[h.leaseToken] = nil
                tasks[t.id] = t
                noteFreshOutputs(h.artifacts)
                dirty = true
                return
            }
            // Durable first: a result the ledger could not take is not done (the task runs again).
            do {
                try ledger.commit(tasks: [t], attempts: [a], events: [event])
            } catch {
                log.error("ledger: \(error)")
                storageFailed(error, path: ledger.path, now: now)
                apply(sched.handle(.doneNotRecorded(lease: h.leaseToken, worker: a.workerID, error: "result not recorded: \(error)"), now: now), now: now)
                return
            }
            attempts[h.leaseToken] = nil
            tasks[t.id] = t
            discardCheckpoint(before.checkpoint)
            doneDurations.append(now - a.startedAt)
            noteFreshOutputs(h.artifacts)
            dirty = true
        }
    }

    /// Common to DONE and FAIL: a result for a lease that is not current is recorded as stale
    /// and otherwise ignored; the sending worker's slot is freed either way.
    private func onResult(_ peer: Data, token: String, now: Double, apply: (String) -> Void) throws {
        if let w = peers[peer]?.workerID {
            _ = sched.handle(.staleResult(lease: token, worker: w), now: now)
            dirty = true
        }
        guard let a = attempts[token], tasks[a.taskID]?.currentLease == token, sched.lease(token) != nil else {
            let tid = try ledger.timeline().first { $0.leaseToken == token }?.taskID
            try ledger.commit(events: [EventRecord(time: now, kind: "stale", task: tid, worker: peers[peer]?.workerID,
                                                   detail: "result for lease \(token.prefix(12)) that is no longer current; ignored")])
            log.info("stale result for lease \(token.prefix(12)) ignored")
            if peers[peer] == nil { _ = send(peer, WireMessage(.reset, ReasonHeader(reason: "unknown worker; send READY"))) }
            return
        }
        // The lease is current, but only the connection holding it may end it: a worker (or a
        // forged DEALER) that learnt another task's token must not overwrite or fail that task.
        guard holds(peer, token) else {
            let who = peers[peer]?.workerID ?? "an unknown peer"
            try ledger.commit(events: [EventRecord(time: now, kind: "rejected", task: a.taskID, worker: peers[peer]?.workerID,
                                                   detail: "result for lease \(token.prefix(12)) held by \(a.workerID) sent by \(who); ignored")])
            log.warning("result for task \(a.taskID) from \(who), which does not hold its lease; ignored")
            if peers[peer] == nil { _ = send(peer, WireMessage(.reset, ReasonHeader(reason: "unknown worker; send READY"))) }
            return
        }
        apply(a.taskID)
    }

    private func onFetch(_ peer: Data, _ h: FetchHeader) throws {
        guard requirePeer(peer) else { return }
        func reply(_ error: String?, _ total: Int64, _ bytes: Data) {
            _ = send(peer, WireMessage(.chunk, ChunkHeader(sha256: h.sha256, offset: h.offset, total: total, error: error), payload: [bytes]))
        }
        guard ArtifactStore.isValidHash(h.sha256), let total = store.size(of: h.sha256) else { return reply("no artifact \(h.sha256.prefix(16))", -1, Data()) }
        guard h.offset >= 0, h.offset <= total, h.length > 0, h.length <= 4 * WireProtocol.chunkSize else { return reply("bad range", total, Data()) }
        let fh = try openForRead(h.sha256)
        // The bytes go from the file straight into libzmq's message (one copy, no Data).
        let length = Int(min(Int64(h.length), total - h.offset))
        let head = [peer] + WireMessage(.chunk, ChunkHeader(sha256: h.sha256, offset: h.offset, total: total, error: nil)).frames
        guard let got = try? router.send(head, fileTail: fh.fileDescriptor, offset: h.offset, length: length) else {
            return reply("read failed", total, Data())
        }
        if h.offset + Int64(got) >= total { peers[peer]?.cached.insert(h.sha256) }
    }

    private func openForRead(_ hash: String) throws -> FileHandle {
        if let f = readHandles[hash] { return f }
        let url = try store.path(for: hash)
        guard let f = FileHandle(forReadingAtPath: url.path) else { throw ClusterError.io(path: url.path, reason: "cannot open") }
        if readHandles.count >= 32 { for (_, old) in readHandles { try? old.close() }; readHandles.removeAll() }
        readHandles[hash] = f
        return f
    }
}

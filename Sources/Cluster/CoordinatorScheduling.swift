import Foundation

/// Scheduling (ready tasks, priority, locality) and the end of leases.
extension Coordinator {
    /// Hands ready tasks to workers with free slots: highest priority first (then submission
    /// order); for each task the free worker already caching most of its input bytes wins.
    /// All leases of one call are written in one ledger transaction (with the DONEs staged in
    /// the open batch) before any ASSIGN leaves; if it fails, every one of them is undone as a
    /// lease whose own write failed (the task stays pending, nothing is sent).
    func dispatch(now: Double) {
        dirty = false
        guard storageProblem == nil else { return }
        if pendingOrderStale { rebuildPendingOrder() }
        // Nothing waiting (e.g. all done, hundreds of idle workers): no need to look at peers.
        guard !pendingOrder.isEmpty else { return }
        var free = maybeFree.compactMap { pid -> (order: Int, pid: Data)? in
            guard let p = peers[pid], p.freeSlots > 0 else { return nil }
            return (p.order, pid)
        }.sorted { $0.order < $1.order }.map(\.pid)
        maybeFree = Set(free)
        guard !free.isEmpty else { return }
        struct Lease { let before: TaskRecord; let token: String; let peer: Data; let message: WireMessage }
        var leases: [Lease] = []
        var peersBefore: [Data: Peer] = [:]
        var rows: (tasks: [TaskRecord], attempts: [AttemptRecord], events: [EventRecord]) = ([], [], [])
        var taken = Set<String>()
        var examined = 0
        for id in pendingOrder {
            guard !free.isEmpty else { break }
            examined += 1
            guard var t = tasks[id], t.state == .pending, t.dependencies.allSatisfy({ tasks[$0]?.state == .done }) else { continue }
            let before = t
            let manifest: [String: ManifestEntry]
            do { manifest = try resolveInputs(t) } catch {
                failPermanently(&t, error: "\(error)", now: now)
                taken.insert(id)
                continue
            }
            var best = 0, bestBytes: Int64 = -1
            for (i, pid) in free.enumerated() {
                guard let p = peers[pid] else { continue }
                let bytes = manifest.values.reduce(Int64(0)) { $0 + (p.cached.contains($1.sha256) ? $1.size + 1 : 0) }
                if bytes > bestBytes { best = i; bestBytes = bytes }
                if manifest.isEmpty { break }  // nothing to prefer: the first free worker
            }
            let pid = free[best]
            guard var p = peers[pid] else { continue }
            if peersBefore[pid] == nil { peersBefore[pid] = p }
            let token = Token.make()
            t.attempts += 1
            t.state = .running; t.currentLease = token; t.progress = 0; t.progressMessage = ""
            let a = AttemptRecord(leaseToken: token, taskID: t.id, attempt: t.attempts, workerID: p.workerID,
                                  startedAt: now, endedAt: nil, outcome: "running", error: nil)
            var checkpoint: ManifestEntry?
            if let c = t.checkpoint, let size = store.size(of: c) { checkpoint = ManifestEntry(sha256: c, size: size) }
            let header = AssignHeader(taskID: t.id, leaseToken: token, attempt: t.attempts, kind: t.kind, label: t.label,
                                      inputs: manifest, checkpoint: checkpoint)
            rows.tasks.append(t); rows.attempts.append(a)
            rows.events.append(EventRecord(time: now, kind: "leased", task: t.id, worker: p.workerID, detail: "attempt \(t.attempts)"))
            tasks[t.id] = t
            attempts[token] = a
            p.leases.insert(token)
            p.cached.formUnion(manifest.values.map(\.sha256))
            peers[pid] = p
            if p.freeSlots <= 0 { free.remove(at: best) }
            leases.append(Lease(before: before, token: token, peer: pid, message: WireMessage(.assign, header, payload: [t.spec])))
            taken.insert(id)
        }
        // Only the walked prefix can hold taken ids.
        if !taken.isEmpty { pendingOrder.replaceSubrange(0..<examined, with: pendingOrder[0..<examined].filter { !taken.contains($0) }) }
        guard !leases.isEmpty else { return }
        // The batch's staged DONEs go in the same transaction (CoordinatorBatching).
        let results = takeStagedResults()
        do {
            try ledger.commit(tasks: results.map(\.done) + rows.tasks, attempts: results.map(\.ended) + rows.attempts,
                              events: results.map(\.event) + rows.events)
        } catch {
            // As if each lease's own write had failed: none was handed out.
            storageFailed(error, path: ledger.path, now: now); log.error("ledger: \(error)")
            for l in leases { tasks[l.before.id] = l.before; attempts[l.token] = nil }
            for (pid, p) in peersBefore where peers[pid] != nil { peers[pid] = p; maybeFree.insert(pid) }
            pendingOrderStale = true
            // And each DONE as if its own write had failed.
            resultsFailed(results, error: error, now: now)
            return
        }
        resultsCommitted(results, now: now)
        var gone: [Data] = []
        leasesSent += leases.count
        for l in leases {
            if !gone.contains(l.peer) && send(l.peer, l.message) { continue }
            // Never delivered: the attempt is lost but not held against the task.
            endLease(l.token, outcome: "lost", error: "could not deliver to \(peers[l.peer]?.workerID ?? "?")", countsAsFailure: false, now: now)
            if !gone.contains(l.peer) { gone.append(l.peer) }
        }
        for pid in gone { peerLost(pid, reason: "connection gone", now: now, state: "lost") }
    }

    /// Pending tasks best first. Rebuilt (O(n log n)) only when a task may have become pending
    /// since (submit, retry, a lease ended) and once per housekeeping tick as a safety net;
    /// dispatch otherwise walks it from the front and drops what it leased.
    func rebuildPendingOrder() {
        pendingOrderStale = false
        pendingOrder = tasks.values.filter { $0.state == .pending }
            .sorted { ($0.priority, -$0.sequence) > ($1.priority, -$1.sequence) }.map(\.id)
    }

    func resolveInputs(_ t: TaskRecord) throws -> [String: ManifestEntry] {
        var m: [String: ManifestEntry] = [:]
        for (name, ref) in t.inputs {
            let hash: String
            switch ref {
            case let .hash(h): hash = h
            case let .output(task, out):
                guard let h = tasks[task]?.artifacts[out] else { throw ClusterError.task(id: t.id, reason: "input '\(name)': task \(task) produced no artifact '\(out)'") }
                hash = h
            }
            guard let size = store.size(of: hash) else { throw ClusterError.task(id: t.id, reason: "input '\(name)': artifact \(hash.prefix(16))… missing from the store") }
            m[name] = ManifestEntry(sha256: hash, size: size)
        }
        return m
    }

    private func failPermanently(_ t: inout TaskRecord, error: String, now: Double) {
        t.state = .failed; t.lastError = error; t.finishedAt = now
        tasks[t.id] = t
        try? ledger.commit(tasks: [t], events: [EventRecord(time: now, kind: "failed", task: t.id, worker: nil, detail: error)])
        try? reblock(now: now)
    }

    /// Ends a current lease that did not succeed. The task goes back to the queue, or is
    /// failed after `maxAttempts` counted failures (and its dependents are blocked).
    func endLease(_ token: String, outcome: String, error: String, countsAsFailure: Bool, now: Double) {
        guard var a = attempts.removeValue(forKey: token), var t = tasks[a.taskID], t.currentLease == token else { return }
        releaseLease(token)
        a.endedAt = now; a.outcome = outcome; a.error = error
        t.currentLease = nil; t.lastError = error
        if countsAsFailure { t.failures += 1 }
        var events = [EventRecord(time: now, kind: outcome == "lost" ? "lease-lost" : "attempt-failed", task: t.id, worker: a.workerID, detail: error)]
        if t.failures >= options.maxAttempts {
            t.state = .failed; t.finishedAt = now
            events.append(EventRecord(time: now, kind: "failed", task: t.id, worker: nil, detail: "after \(t.failures) failed attempts: \(error)"))
            log.warning("task \(t.label) failed: \(error)")
        } else {
            t.state = .pending
            pendingOrderStale = true
        }
        tasks[t.id] = t
        do { try ledger.commit(tasks: [t], attempts: [a], events: events) } catch {
            log.error("ledger: \(error)")
            if storageFailed(error, path: ledger.path, now: now) { unpersistedAttempts.append(a); unpersistedEvents += events }
        }
        if t.state == .failed { try? reblock(now: now) }
        dirty = true
    }

    /// Marks pending tasks that depend (transitively) on a failed task as blocked.
    func reblock(now: Double) throws {
        let blocked = Ledger.blockedSet(Array(tasks.values))
        var changed: [TaskRecord] = [], events: [EventRecord] = []
        for id in blocked.sorted() {
            guard var t = tasks[id], t.state == .pending else { continue }
            t.state = .blocked
            tasks[id] = t
            changed.append(t)
            events.append(EventRecord(time: now, kind: "blocked", task: id, worker: nil, detail: "a dependency failed"))
        }
        if !changed.isEmpty { try ledger.commit(tasks: changed, events: events) }
    }
}

import Foundation

/// Scheduling (ready tasks, priority, locality) and the end of leases.
extension Coordinator {
    /// Hands ready tasks to workers with free slots: highest priority first (then submission
    /// order); for each task the free worker already caching most of its input bytes wins.
    func dispatch(now: Double) {
        dirty = false
        guard storageProblem == nil else { return }
        var free = peerOrder.filter { (peers[$0]?.freeSlots ?? 0) > 0 }
        guard !free.isEmpty else { return }
        let ready = tasks.values.filter { t in
            t.state == .pending && t.dependencies.allSatisfy { tasks[$0]?.state == .done }
        }.sorted { ($0.priority, -$0.sequence) > ($1.priority, -$1.sequence) }
        for var t in ready {
            guard !free.isEmpty else { break }
            let manifest: [String: ManifestEntry]
            do { manifest = try resolveInputs(t) } catch {
                failPermanently(&t, error: "\(error)", now: now)
                continue
            }
            var best = 0, bestBytes: Int64 = -1
            for (i, pid) in free.enumerated() {
                guard let p = peers[pid] else { continue }
                let bytes = manifest.values.reduce(Int64(0)) { $0 + (p.cached.contains($1.sha256) ? $1.size + 1 : 0) }
                if bytes > bestBytes { best = i; bestBytes = bytes }
            }
            let pid = free[best]
            guard var p = peers[pid] else { continue }
            let token = Token.make()
            t.attempts += 1
            t.state = .running; t.currentLease = token; t.progress = 0; t.progressMessage = ""
            let a = AttemptRecord(leaseToken: token, taskID: t.id, attempt: t.attempts, workerID: p.workerID,
                                  startedAt: now, endedAt: nil, outcome: "running", error: nil)
            var checkpoint: ManifestEntry?
            if let c = t.checkpoint, let size = store.size(of: c) { checkpoint = ManifestEntry(sha256: c, size: size) }
            let header = AssignHeader(taskID: t.id, leaseToken: token, attempt: t.attempts, kind: t.kind, label: t.label,
                                      inputs: manifest, checkpoint: checkpoint)
            do {
                try ledger.commit(tasks: [t], attempts: [a], events: [EventRecord(time: now, kind: "leased", task: t.id, worker: p.workerID, detail: "attempt \(t.attempts)")])
            } catch { storageFailed(error, path: ledger.path, now: now); log.error("ledger: \(error)"); return }
            tasks[t.id] = t
            attempts[token] = a
            p.leases.insert(token)
            p.cached.formUnion(manifest.values.map(\.sha256))
            peers[pid] = p
            if p.freeSlots <= 0 { free.remove(at: best) }
            if !send(pid, WireMessage(.assign, header, payload: [t.spec])) {
                // Never delivered: the attempt is lost but not held against the task.
                endLease(token, outcome: "lost", error: "could not deliver to \(p.workerID)", countsAsFailure: false, now: now)
                peerLost(pid, reason: "connection gone", now: now, state: "lost")
                free.removeAll { $0 == pid }
            }
        }
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
        for pid in peers.keys { peers[pid]!.leases.remove(token) }
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

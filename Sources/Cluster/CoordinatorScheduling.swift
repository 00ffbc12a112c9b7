import Foundation
import Scheduling

/// Ledger rows (and sends) that carrying out a list of scheduler directives produced.
struct DirectiveRows {
    var tasks: [TaskRecord] = []
    var attempts: [AttemptRecord] = []
    var events: [EventRecord] = []
    /// CANCELs to send after the rows commit: routing id, message.
    var cancels: [(Data, WireMessage)] = []
    /// Requests the scheduler rejected (their text).
    var rejected: [String] = []
}

/// The coordinator's side of scheduling: every decision is the `Scheduler`'s; here its
/// directives become ledger rows and messages.
extension Coordinator {
    static func schedulerPolicy(_ o: CoordinatorOptions) -> Scheduler.Policy {
        var p = Scheduler.Policy(maxAttempts: o.maxAttempts)
        p.leaseCapFactor = o.leaseCapFactor
        p.quarantineAfter = o.quarantineAfter
        p.quarantineBase = o.quarantineSeconds
        p.deadlineFloor = o.taskDeadlineFloor
        p.deadlineFactor = o.deadlineFactor
        return p
    }

    static func schedulerTask(_ r: TaskRecord) -> Scheduler.Task {
        Scheduler.Task(id: r.id, kind: r.kind, priority: r.priority, sequence: r.sequence, dependencies: r.dependencies,
                       expectedSeconds: r.expectedSeconds, phase: Scheduler.Phase(rawValue: r.state.rawValue) ?? .pending,
                       leases: r.attempts, failures: r.failures)
    }

    /// Hands ready tasks to workers with free slots (the Scheduler picks which and where).
    /// All leases of one call are written in one ledger transaction (with the DONEs staged in
    /// the open batch) before any ASSIGN leaves; if it fails, every one of them is undone as a
    /// lease whose own write failed (the task stays pending, nothing is sent).
    func dispatch(now: Double) {
        dirty = false
        guard storageProblem == nil else { return }
        var manifests: [String: [String: ManifestEntry]] = [:]
        let directives = sched.dispatch(now: now, inputs: { id in
            guard let t = tasks[id] else { return [:] }
            let m = try resolveInputs(t)
            manifests[id] = m
            var bytes: [String: Int64] = [:]
            for e in m.values { bytes[e.sha256, default: 0] += e.size }
            return bytes
        }, caches: { worker, hash in
            guard let pid = peerOf[worker] else { return false }
            return peers[pid]?.cached.contains(hash) ?? false
        })
        guard !directives.isEmpty else { return }
        struct Lease { let before: TaskRecord; let token: String; let peer: Data; let message: WireMessage }
        var leases: [Lease] = []
        var rows = DirectiveRows()
        var others: [Scheduler.Directive] = []
        for d in directives {
            guard case let .assign(id, worker, token, _) = d, var t = tasks[id], let pid = peerOf[worker], var p = peers[pid] else {
                others.append(d); continue
            }
            let before = t
            let manifest = manifests[id] ?? [:]
            t.attempts += 1
            t.state = .running; t.currentLease = token; t.progress = 0; t.progressMessage = ""
            let a = AttemptRecord(leaseToken: token, taskID: t.id, attempt: t.attempts, workerID: worker,
                                  startedAt: now, endedAt: nil, outcome: .running, error: nil)
            var checkpoint: ManifestEntry?
            if let c = t.checkpoint, let size = store.size(of: c) { checkpoint = ManifestEntry(sha256: c, size: size) }
            let header = AssignHeader(taskID: t.id, leaseToken: token, attempt: t.attempts, kind: t.kind, label: t.label,
                                      inputs: manifest, checkpoint: checkpoint)
            rows.tasks.append(t); rows.attempts.append(a)
            rows.events.append(EventRecord(time: now, kind: "leased", task: t.id, worker: worker, detail: "attempt \(t.attempts)"))
            tasks[t.id] = t
            attempts[token] = a
            p.cached.formUnion(manifest.values.map(\.sha256))
            peers[pid] = p
            leases.append(Lease(before: before, token: token, peer: pid, message: WireMessage(.assign, header, payload: [t.spec])))
        }
        absorb(others, now: now, into: &rows)
        // The batch's staged DONEs go in the same transaction (CoordinatorBatching).
        let results = takeStagedResults()
        do {
            try ledger.commit(tasks: results.map(\.done) + rows.tasks, attempts: results.map(\.ended) + rows.attempts,
                              events: results.map(\.event) + rows.events)
        } catch {
            // As if each lease's own write had failed: none was handed out.
            storageFailed(error, path: ledger.path, now: now); log.error("ledger: \(error)")
            for l in leases { tasks[l.before.id] = l.before; attempts[l.token] = nil }
            _ = sched.handle(.leasesAborted(leases.map(\.token)), now: now)
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
            apply(sched.handle(.undelivered(lease: l.token), now: now), now: now)
            if !gone.contains(l.peer) { gone.append(l.peer) }
        }
        for pid in gone { peerLost(pid, reason: "connection gone", now: now, state: "lost", why: .unreachable) }
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
            guard let size = store.size(of: hash) else {
                if case .hash = ref {
                    throw ClusterError.task(id: t.id, reason: "input '\(name)': imported artifact \(hash.prefix(16))… is missing from the store (corrupt or deleted); re-run `seafold coordinator` with the experiment config to import it again, then `seafold retry`")
                }
                throw ClusterError.task(id: t.id, reason: "input '\(name)': artifact \(hash.prefix(16))… missing from the store")
            }
            m[name] = ManifestEntry(sha256: hash, size: size)
        }
        return m
    }

    /// Carries out directives: memory, then one ledger transaction, then CANCELs. Returns the
    /// requests the scheduler rejected.
    @discardableResult
    func apply(_ directives: [Scheduler.Directive], now: Double, extraEvents: [EventRecord] = []) -> [String] {
        guard !directives.isEmpty || !extraEvents.isEmpty else { return [] }
        var rows = DirectiveRows()
        absorb(directives, now: now, into: &rows)
        rows.events += extraEvents
        do { try ledger.commit(tasks: rows.tasks, attempts: rows.attempts, events: rows.events) } catch {
            log.error("ledger: \(error)")
            if storageFailed(error, path: ledger.path, now: now) { unpersistedAttempts += rows.attempts; unpersistedEvents += rows.events }
        }
        for (pid, m) in rows.cancels { _ = send(pid, m) }
        return rows.rejected
    }

    /// Updates memory (task and attempt records) for directives and collects their rows.
    func absorb(_ directives: [Scheduler.Directive], now: Double, into rows: inout DirectiveRows) {
        guard !directives.isEmpty else { return }
        var touched: [String] = []
        func event(_ kind: String, _ task: String?, _ worker: String?, _ detail: String) {
            rows.events.append(EventRecord(time: now, kind: kind, task: task, worker: worker, detail: detail))
        }
        for d in directives {
            switch d {
            case .assign:
                break  // only dispatch hands out leases
            case let .leaseEnded(id, token, worker, end, counted, error):
                if var a = attempts.removeValue(forKey: token) {
                    a.endedAt = now; a.outcome = AttemptOutcome(end); a.error = error
                    rows.attempts.append(a)
                }
                tasks[id]?.lastError = error
                let kind = end == .lost ? "lease-lost" : end == .timedOut ? "timed-out" : end == .cancelled ? "lease-cancelled" : "attempt-failed"
                event(kind, id, worker, counted ? error : "\(error) (not counted against the task)")
                touched.append(id)
            case let .requeued(id):
                touched.append(id)
            case let .completed(id, _, _):
                touched.append(id)
            case let .failed(id, reason, error):
                tasks[id]?.lastError = error; tasks[id]?.finishedAt = now
                event("failed", id, nil, reason)
                log.warning("task \(tasks[id]?.label ?? id) failed: \(reason)")
                touched.append(id)
            case let .blocked(ids):
                for id in ids { event("blocked", id, nil, "a dependency failed") }
                touched += ids
            case let .unblocked(ids):
                for id in ids { event("unblocked", id, nil, "") }
                touched += ids
            case let .reset(id, reason):
                if var t = tasks[id] {
                    if t.state == .done { t.result = nil; t.artifacts = [:] }
                    t.lastError = nil; t.finishedAt = nil; t.progress = 0; t.progressMessage = ""
                    // A checkpoint that no longer verifies would poison the next attempt.
                    if let c = t.checkpoint, !store.verify(c) {
                        event("checkpoint-dropped", id, nil, "checkpoint \(c.prefix(16))… is corrupt or missing")
                        t.checkpoint = nil
                    }
                    tasks[id] = t
                }
                event(reason == "retry requested" ? "retry" : "invalidated", id, nil, reason)
                touched.append(id)
            case let .quarantined(worker, until, reason):
                event("worker-quarantined", nil, worker, "until \(until): \(reason)")
                log.warning("worker \(worker) quarantined: \(reason)")
            case let .released(worker):
                event("worker-released", nil, worker, "quarantine over")
            case let .forgiven(id, worker, n):
                event("forgiven", id, worker, "\(n) failure(s) on quarantined worker \(worker) not held against the task")
                touched.append(id)
            case let .cancel(token, worker):
                if let pid = peerOf[worker] { rows.cancels.append((pid, WireMessage(.cancel, CancelHeader(leaseToken: token)))) }
            case let .rejected(text):
                rows.rejected.append(text)
            }
        }
        var seen = Set<String>()
        for id in touched where seen.insert(id).inserted {
            guard var t = tasks[id], let v = sched.task(id) else { continue }
            t.state = TaskState(rawValue: v.phase.rawValue) ?? t.state
            t.failures = v.failures
            t.currentLease = v.lease
            tasks[id] = t
            rows.tasks.append(t)
        }
        dirty = true
    }
}

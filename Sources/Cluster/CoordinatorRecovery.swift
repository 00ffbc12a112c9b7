import Foundation
import Scheduling

/// Start-up of a coordinator on a run directory: the ledger loaded (leases of a dead
/// predecessor requeued) and the store cleaned before serving.
extension Coordinator {
    /// Before serving: removes from the store what no task needs any more (checkpoints of done
    /// tasks, superseded ones, orphans, temporary files of a previous process), so a resumed
    /// run starts within its budget. Nothing is being written yet, so nothing can race it.
    func collectGarbage() {
        do {
            let done = StoreGarbageCollector.execute(try StoreGarbageCollector.plan(ledger: ledger, store: store))
            guard !done.deletions.isEmpty else { return }
            let detail = "\(done.deletions.count) files, \(Coordinator.megabytes(done.freedBytes)) MB freed at start"
            try ledger.recordEvent(kind: "gc", detail: detail)
            log.info("store: \(detail)")
        } catch { log.warning("store clean-up at start: \(error)") }
    }

    /// Loads the ledger; tasks leased when a previous coordinator died go back to the queue
    /// (their attempt is recorded as lost but not counted against `maxAttempts`). Then every
    /// stored artifact the run relies on is hashed again (CoordinatorArtifacts), and requests
    /// written while no coordinator served are applied.
    func recover() throws {
        let now = Date().timeIntervalSince1970
        var changed: [TaskRecord] = [], ended: [AttemptRecord] = [], events: [EventRecord] = []
        let timeline = try ledger.timeline()
        let running = Dictionary(timeline.filter { $0.outcome == .running }.map { ($0.leaseToken, $0) }, uniquingKeysWith: { a, _ in a })
        var list: [Scheduler.Task] = []
        // The lease cap counts leases since the task's last retry or invalidation.
        var lastReset: [String: Double] = [:]
        for e in try ledger.events(kind: "retry") + ledger.events(kind: "invalidated") {
            if let id = e.task { lastReset[id] = max(lastReset[id] ?? 0, e.time) }
        }
        var leasesSince: [String: Int] = [:]
        for a in timeline where a.startedAt >= lastReset[a.taskID] ?? 0 { leasesSince[a.taskID, default: 0] += 1 }
        for var t in try ledger.tasks() {
            if t.state == .running {
                if let tok = t.currentLease, var a = running[tok] {
                    a.outcome = .lost; a.endedAt = now; a.error = "coordinator restarted"
                    ended.append(a)
                }
                t.state = .pending; t.currentLease = nil
                changed.append(t)
                events.append(EventRecord(time: now, kind: "requeued", task: t.id, worker: nil, detail: "coordinator restarted while leased"))
            }
            tasks[t.id] = t
            var st = Coordinator.schedulerTask(t)
            st.leases = leasesSince[t.id] ?? 0
            list.append(st)
        }
        doneDurations = timeline.filter { $0.outcome == .done }.compactMap { a in a.endedAt.map { $0 - a.startedAt } }
        // The deadlines remember how long each kind took in earlier runs of this directory.
        for a in timeline where a.outcome == .done {
            if let end = a.endedAt, let kind = tasks[a.taskID]?.kind { sched.noteCompleted(kind: kind, seconds: end - a.startedAt) }
        }
        if !changed.isEmpty { try ledger.commit(tasks: changed, attempts: ended, events: events) }
        apply(sched.handle(.submitted(list), now: now), now: now)
        try verifyStoredArtifacts(now: now)
        applyRequests(now: now)
    }
}

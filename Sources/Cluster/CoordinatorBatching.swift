import Foundation

/// A DONE accepted while a batch of drained messages is open: its ledger rows wait for the
/// batch's one transaction (`flushResults`). Memory already says done (so a duplicate DONE in
/// the same batch is seen as stale, as it would be after a commit); `before` and `running` are
/// what memory said before, to undo it if the transaction fails.
struct StagedDone {
    let before: TaskRecord
    let running: AttemptRecord
    let done: TaskRecord
    let ended: AttemptRecord
    let event: EventRecord
}

/// Group commit of results. The serving loop drains up to 1000 queued messages at a time; the
/// DONEs among them are written in one ledger transaction at the end of the drain instead of
/// one each, before anything that depends on them happens: dispatch (which may hand the freed
/// slot or a dependent task out) runs only after the flush. The durability rule is unchanged:
/// a task counts as done only once its result is in the ledger. If the batch's transaction
/// fails, every DONE in it is handled exactly as a DONE whose own transaction failed: the
/// storage failure is noted (a full disk pauses the run) and the lease ends as lost without
/// counting against the task, which goes back to the queue to run again.
extension Coordinator {
    /// Opens a batch: DONEs handled until `flushResults` are staged.
    func beginResultBatch() { if resultBatch == nil { resultBatch = [] } }

    /// Writes the staged DONEs in one transaction and closes the batch; on failure undoes each.
    func flushResults(now: Double) {
        guard let batch = resultBatch else { return }
        resultBatch = nil
        guard !batch.isEmpty else { return }
        lastResultBatchSize = batch.count
        do {
            try ledger.commit(tasks: batch.map(\.done), attempts: batch.map(\.ended), events: batch.map(\.event))
            for d in batch { doneDurations.append((d.ended.endedAt ?? now) - d.ended.startedAt) }
        } catch {
            log.error("ledger: \(error)")
            storageFailed(error, path: ledger.path, now: now)
            for d in batch { undo(d, error: error, now: now) }
        }
    }

    /// The single-DONE failure path for one staged DONE: memory goes back to "running under
    /// this lease", then the lease ends as lost (not counted) and the task is pending again.
    private func undo(_ d: StagedDone, error: Error, now: Double) {
        let token = d.running.leaseToken
        guard let t = tasks[d.done.id], t.state == .done, t.currentLease == nil, attempts[token] == nil else { return }
        tasks[d.done.id] = d.before
        attempts[token] = d.running
        endLease(token, outcome: "lost", error: "result not recorded: \(error)", countsAsFailure: false, now: now)
    }
}

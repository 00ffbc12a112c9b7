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
/// one each — together with the leases the following dispatch hands out (the freed slots, or
/// tasks that depended on them), so nothing leaves before its rows commit: no ASSIGN is sent
/// and no task counts as done (in anything a worker or the ledger can see) until then. The
/// durability rule is unchanged: a task counts as done only once its result is in the ledger.
/// If the transaction fails, every lease in it is undone as a lease whose own write failed
/// (nothing sent, the task stays pending) and every DONE in it is handled exactly as a DONE
/// whose own transaction failed: the storage failure is noted (a full disk pauses the run) and
/// the lease ends as lost without counting against the task, which goes back to the queue.
extension Coordinator {
    /// Opens a batch: DONEs handled until `flushResults` are staged.
    func beginResultBatch() { if resultBatch == nil { resultBatch = [] } }

    /// Writes the staged DONEs not yet written (dispatch usually took them into its own
    /// transaction) in one transaction and closes the batch; on failure undoes each.
    func flushResults(now: Double) {
        let batch = takeStagedResults()
        resultBatch = nil
        guard !batch.isEmpty else { return }
        do {
            try ledger.commit(tasks: batch.map(\.done), attempts: batch.map(\.ended), events: batch.map(\.event))
            resultsCommitted(batch, now: now)
        } catch {
            log.error("ledger: \(error)")
            storageFailed(error, path: ledger.path, now: now)
            resultsFailed(batch, error: error, now: now)
        }
    }

    /// The DONEs staged so far (the batch stays open, now empty): whoever takes them must
    /// commit them and then call `resultsCommitted`, or `resultsFailed`.
    func takeStagedResults() -> [StagedDone] {
        guard let batch = resultBatch, !batch.isEmpty else { return [] }
        resultBatch = []
        lastResultBatchSize = batch.count
        return batch
    }

    func resultsCommitted(_ batch: [StagedDone], now: Double) {
        for d in batch {
            doneDurations.append((d.ended.endedAt ?? now) - d.ended.startedAt)
            discardCheckpoint(d.before.checkpoint)
        }
    }

    /// Every DONE of a batch whose transaction failed, undone one by one.
    func resultsFailed(_ batch: [StagedDone], error: Error, now: Double) {
        for d in batch { undo(d, error: error, now: now) }
    }

    /// The single-DONE failure path for one staged DONE: memory goes back to "running under
    /// this lease", then the lease ends as lost (not counted) and the task is pending again.
    private func undo(_ d: StagedDone, error: Error, now: Double) {
        let token = d.running.leaseToken
        guard let t = tasks[d.done.id], t.state == .done, t.currentLease == nil, attempts[token] == nil else { return }
        tasks[d.done.id] = d.before
        attempts[token] = d.running
        apply(sched.handle(.doneNotRecorded(lease: token, worker: d.running.workerID, error: "result not recorded: \(error)"), now: now), now: now)
    }
}

import Foundation

/// The live run summary, from the in-memory mirror of the ledger.
extension Coordinator {
    /// The live summary (from memory; `ledger.status()` gives the same from disk).
    public func status() -> RunStatus {
        lock.lock(); defer { lock.unlock() }
        return statusLocked(now: Date().timeIntervalSince1970)
    }

    func statusLocked(now: Double) -> RunStatus {
        var st = Ledger.summarize(Array(tasks.values), attempts: Array(attempts.values), connectedWorkers: peers.count, now: now)
        let q = sched.quarantined
        if !q.isEmpty { st.quarantined = q.mapValues(\.reason) }
        if !doneDurations.isEmpty, st.pending + st.running > 0 {
            let mean = doneDurations.reduce(0, +) / Double(doneDurations.count)
            let par = Double(max(1, max(peers.count, st.running)))
            st.eta = (Double(st.pending) * mean + st.runningTasks.map { max(0, mean - $0.elapsed) }.reduce(0, +)) / par
        }
        st.runningTasks.sort { $0.id < $1.id }
        st.storageProblem = storageProblem
        return st
    }
}

import Foundation

/// A full disk under the run directory (ENOSPC, EDQUOT, SQLITE_FULL). The coordinator then stops
/// taking results: it hands out no new leases, refuses uploads with an error that names the path
/// and says "no space", and puts the tasks whose results it could not store back in the queue
/// without counting that against them. About twice a second it probes whether space returned
/// (a 1 MiB write into the artifact store and a ledger write); when both succeed it writes what
/// the ledger missed meanwhile and resumes.
extension Coordinator {
    /// Text a worker's FAIL carries when its upload was refused for lack of space here.
    static let noSpaceMarker = "no space left on the coordinator"

    /// Only `ClusterError.io` from this coordinator's own file and ledger writes qualifies (never
    /// text a worker sent), so a peer cannot pause the run by echoing the words.
    static func isNoSpace(_ error: Error) -> Bool {
        guard case let ClusterError.io(_, reason)? = error as? ClusterError else { return false }
        return reason.contains(String(cString: strerror(ENOSPC))) || reason.contains(String(cString: strerror(EDQUOT)))
            || reason.contains("database or disk is full")
    }

    /// Records a storage failure; returns true if it was a full disk (and pauses the run).
    @discardableResult
    func storageFailed(_ error: Error, path: String, now: Double) -> Bool {
        guard Coordinator.isNoSpace(error) else { return false }
        if storageProblem == nil {
            storageProblem = "\(path): \(Coordinator.noSpaceMarker) (no space left on device under run directory \(runDirectory.path)); not taking results until space is freed — cause: \(error)"
            log.error("\(storageProblem!)")
            // The ledger is likely unwritable now; the notice file is overwritten in place, so
            // `seafold status` can show the pause anyway.
            do { try notice.write(storageProblem) } catch { log.error("cannot record the pause in \(notice.url.path): \(error)") }
        }
        nextSpaceProbe = now + 0.5
        return true
    }

    /// While paused for space: checks whether writes work again, and if so resumes.
    func probeSpace(now: Double) {
        guard let problem = storageProblem, now >= nextSpaceProbe else { return }
        nextSpaceProbe = now + 0.5
        do {
            let w = try store.beginWrite()
            do { try w.append(Data(count: 1 << 20)); w.abandon() } catch { w.abandon(); throw error }
            // Write back what the ledger could not take meanwhile (memory is the truth here).
            let ev = EventRecord(time: now, kind: "space-returned", task: nil, worker: nil, detail: "resuming after: \(problem)")
            try ledger.commit(tasks: Array(tasks.values), attempts: unpersistedAttempts, events: unpersistedEvents + [ev])
            unpersistedAttempts = []; unpersistedEvents = []
            storageProblem = nil
            try? notice.write(nil)
            log.notice("space returned under \(runDirectory.path); taking results again")
            dirty = true
        } catch {
            if !Coordinator.isNoSpace(error) { log.error("space probe: \(error)") }
        }
    }
}

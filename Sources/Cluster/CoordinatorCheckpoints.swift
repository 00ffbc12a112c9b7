import Foundation
import GRDB

/// Checkpoints in the coordinator's store live only while they are a task's newest resume
/// point: one superseded by a newer checkpoint, or by the task's durable result, is deleted at
/// once (after the ledger row that supersedes it has committed), and checkpoint uploads that
/// would take the checkpoints held past `checkpointRoomBytes` are declined — the worker keeps
/// that checkpoint locally, so the cost of a decline is only what another worker would redo if
/// this one died.
extension Coordinator {
    /// Admits a checkpoint of `size` bytes for `lease` (sent by `peer`): nil when it may come in,
    /// else the reason it is declined. A task replacing its own checkpoint keeps the old one
    /// until the new one is durable when both fit; when they do not, the old one goes first (the
    /// worker keeps the newer one, so only a worker dying during that upload would fall back
    /// further), so a holder is never stuck with its first checkpoint once the room is shared
    /// out. A task holding none is admitted while the room has space for it.
    func admitCheckpoint(size: Int64, lease: String?, peer: Data, now: Double) -> String? {
        guard let room = options.checkpointRoomBytes else { return nil }
        let held = Set(tasks.values.compactMap(\.checkpoint)).reduce(Int64(0)) { $0 + (store.size(of: $1) ?? 0) }
        let incoming = uploads.values.filter(\.checkpoint).reduce(Int64(0)) { $0 + $1.size } + committingCheckpointBytes
        if held + incoming + size <= room { return nil }
        if let lease, holds(peer, lease), let l = sched.lease(lease), var t = tasks[l.task], let own = t.checkpoint,
           held - (store.size(of: own) ?? 0) + incoming + size <= room {
            t.checkpoint = nil
            tasks[t.id] = t
            do { try ledger.commit(tasks: [t]) } catch { storageFailed(error, path: ledger.path, now: now) }
            discardCheckpoint(own)
            return nil
        }
        return "checkpoints would take \(Coordinator.megabytes(held + incoming + size)) MB of the \(Coordinator.megabytes(room)) MB the run's disk budget leaves them; the checkpoint stays on the worker"
    }

    /// Deletes a checkpoint that no task refers to any more (called after the ledger commit
    /// that dropped the reference). Its ledger row goes too.
    func discardCheckpoint(_ hash: String?) {
        guard let hash, !isReferenced(hash) else { return }
        store.remove(hash)
        do { try ledger.forgetArtifacts([hash]) } catch { log.warning("ledger: \(error)") }
    }

    /// True if a task's input, output or current checkpoint is this artifact.
    func isReferenced(_ hash: String) -> Bool {
        tasks.values.contains { t in
            t.checkpoint == hash || t.artifacts.values.contains(hash)
                || t.inputs.values.contains { if case let .hash(h) = $0 { return h == hash }; return false }
        }
    }

    static func megabytes(_ b: Int64) -> Int64 { (b + 999_999) / 1_000_000 }

    /// After a result's upload: says once when the run directory has passed its budget, which
    /// only results can do (checkpoints are admitted within it), so the estimate was low.
    func checkBudget(now: Double) {
        guard let budget = options.budgetBytes, !budgetExceededReported else { return }
        let used = store.totalBytes + bytesOutsideStore
        guard used > budget else { return }
        budgetExceededReported = true
        let detail = "the run directory \(runDirectory.path) holds \(Coordinator.megabytes(used)) MB, past its \(Coordinator.megabytes(budget)) MB budget: the plan's size estimate was low. Results are still taken; checkpoints keep to their room. Make sure the disk has space for the rest (`seafold plan` prints the estimate)"
        log.warning("\(detail)")
        do { try ledger.commit(events: [EventRecord(time: now, kind: "budget-exceeded", task: nil, worker: nil, detail: detail)]) } catch {
            storageFailed(error, path: ledger.path, now: now)
        }
    }

    /// The run directory's bytes outside the store (packs, ledger, keys, report), measured once.
    static func bytesOutside(store: URL, in runDirectory: URL) -> Int64 {
        var sum: Int64 = 0
        let fm = FileManager.default
        guard let e = fm.enumerator(at: runDirectory, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey]) else { return 0 }
        for case let u as URL in e {
            if u.standardizedFileURL.path.hasPrefix(store.standardizedFileURL.path + "/") { e.skipDescendants(); continue }
            guard let v = try? u.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey]), v.isRegularFile == true else { continue }
            sum += Int64(v.fileSize ?? 0)
        }
        return sum
    }
}

extension Ledger {
    /// Drops artifact rows (after their files were deleted from the store).
    func forgetArtifacts(_ hashes: [String]) throws {
        do {
            try db.write { db in
                for h in hashes { try db.execute(sql: "DELETE FROM artifacts WHERE hash = ?", arguments: [h]) }
            }
        } catch { throw ClusterError.io(path: path, reason: "ledger write failed: \(error)") }
    }
}

import Cluster
import Foundation
import Pipeline

/// One row of `seafold status`'s per-task table (the columns of `sacct` or Ray's trial table):
/// what a task is (kind, dataset, variant, fold, head), where it stands (state, worker,
/// attempts), and what it measured (epochs, last loss, seconds). The same rows come from a
/// distributed run's ledger and from a local run's `local-status.json`, and they drive the
/// progress lines of `seafold run` and `seafold coordinator`.
struct TaskRow: Codable, Equatable {
    var id: String
    var kind: String
    var label: String
    var dataset: String?
    var variant: String?
    /// 1-based, as the report prints folds.
    var fold: Int?
    /// "FT/svm" etc. for heads and explain tasks; nil otherwise.
    var head: String?
    /// pending, running, done, failed, blocked.
    var state: String
    var worker: String?
    var attempts: Int
    /// Epochs the task trains (nil for tasks that do not train in epochs).
    var epochs: Int?
    /// Last training loss seen (from the task's progress or its result).
    var loss: Double?
    /// Unix time the current or last attempt started; when it ended.
    var startedAt: Double?
    var endedAt: Double?
    /// Fraction done and the task's last progress message while it runs.
    var fraction: Double
    var message: String
    var error: String?

    /// Seconds of the current or last attempt (up to `now` while it runs).
    func seconds(now: Double) -> Double? {
        guard let s = startedAt else { return nil }
        return (endedAt ?? (state == "running" ? now : s)) - s
    }
}

/// Building rows from the planned graph, the ledger, or a task spec.
enum TaskTable {
    /// A fresh row for a planned task (pending, nothing measured).
    static func row(_ t: PlannedTask) -> TaskRow {
        var r = TaskRow(id: t.id, kind: t.kind.rawValue, label: t.label, state: "pending", attempts: 0, fraction: 0, message: "")
        describe(&r, spec: t.spec)
        return r
    }

    /// Fills dataset, variant, fold, head and epochs from a task's spec.
    static func describe(_ r: inout TaskRow, spec: TaskSpec) {
        if let s = spec.shard { r.dataset = s.dataset; r.variant = s.variant.rawValue; r.fold = s.fold + 1 }
        if let h = spec.head { r.head = spec.model.map { "\($0.rawValue)/\(h.rawValue)" } ?? h.rawValue }
        else if spec.kind == .heads || spec.kind == .explain, let m = spec.model { r.head = m.rawValue }
        if spec.kind == .finetune || spec.kind == .baseline { r.epochs = spec.trainingEpochs }
    }

    /// Rows of every task in a distributed run's ledger.
    static func rows(ledger: Ledger) throws -> [TaskRow] {
        let byLease = Dictionary(try ledger.timeline().map { ($0.leaseToken, $0) }, uniquingKeysWith: { _, b in b })
        var lastAttempt: [String: AttemptRecord] = [:]
        for a in byLease.values where (lastAttempt[a.taskID]?.startedAt ?? -.infinity) <= a.startedAt { lastAttempt[a.taskID] = a }
        return try ledger.tasks().map { t in
            var r = TaskRow(id: t.id, kind: t.kind, label: t.label, state: t.state.rawValue, attempts: t.attempts,
                            fraction: t.progress, message: t.progressMessage, error: t.state == .failed ? t.lastError : nil)
            if let spec = try? TaskSpec.decode(t.spec) { describe(&r, spec: spec) }
            let a = t.currentLease.flatMap { byLease[$0] } ?? lastAttempt[t.id]
            if let a, t.state != .pending {
                r.worker = a.workerID; r.startedAt = a.startedAt
                r.endedAt = t.state == .running ? nil : (a.endedAt ?? t.finishedAt)
            }
            r.loss = lossIn(message: t.progressMessage) ?? t.result.flatMap(lossIn(result:))
            return r
        }
    }

    /// The rows and the number of connected workers, for the progress reporter; nil when the
    /// ledger cannot be read just now (the next tick tries again).
    static func snapshot(_ ledger: Ledger) -> (rows: [TaskRow], workers: Int)? {
        guard let rows = try? rows(ledger: ledger) else { return nil }
        let workers = (try? ledger.workers().filter { $0.state == "connected" }.count) ?? 1
        return (rows, max(1, workers))
    }

    /// "… loss 0.4321 …" in a training task's progress message.
    static func lossIn(message: String) -> Double? {
        guard let range = message.range(of: "loss ") else { return nil }
        return Double(message[range.upperBound...].prefix { $0.isNumber || $0 == "." || $0 == "-" || $0 == "e" })
    }

    /// The last epoch's loss of the training curve in a task's result JSON, if it has one.
    static func lossIn(result: Data) -> Double? {
        guard let obj = try? JSONSerialization.jsonObject(with: result) as? [String: Any] else { return nil }
        for key in ["curve", "trainingCurve"] {
            if let c = obj[key] as? [String: Any], let e = c["epochs"] as? [[String: Any]], let l = e.last?["loss"] as? Double { return l }
        }
        return nil
    }

    /// The shortest prefix (at least 8 characters) that names each id uniquely among `ids`:
    /// what the table prints, and what `retry --task` and `invalidate --task` accept.
    static func shortIDs(_ ids: [String], minimum: Int = 8) -> [String: String] {
        var out: [String: String] = [:]
        let sorted = ids.sorted()
        for (i, id) in sorted.enumerated() {
            var n = minimum
            for j in [i - 1, i + 1] where j >= 0 && j < sorted.count {
                let common = zip(id, sorted[j]).prefix { $0 == $1 }.count
                n = max(n, common + 1)
            }
            out[id] = String(id.prefix(n))
        }
        return out
    }
}

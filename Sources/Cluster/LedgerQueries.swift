import Foundation
import GRDB

/// Read API of the ledger (for the report, `seafold status` and tests).
extension Ledger {
    /// All tasks in submission order.
    public func tasks() throws -> [TaskRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM tasks ORDER BY seq").map(Ledger.task(from:)) }
    }

    public func task(_ id: String) throws -> TaskRecord? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM tasks WHERE id = ?", arguments: [id]).map(Ledger.task(from:)) }
    }

    /// Every lease in start order: the run's timeline.
    public func timeline() throws -> [AttemptRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM attempts ORDER BY startedAt, rowid").map { r in
                let token: String = r["leaseToken"], text: String = r["outcome"]
                guard let outcome = AttemptOutcome(rawValue: text) else {
                    throw ClusterError.io(path: path, reason: "attempts.outcome of lease \(token.prefix(16)) is '\(text.prefix(40))', not one of \(AttemptOutcome.allCases.map(\.rawValue).joined(separator: ", ")): a different seafold version wrote this ledger; read it with that version")
                }
                return AttemptRecord(leaseToken: token, taskID: r["taskID"], attempt: r["attempt"], workerID: r["workerID"],
                                     startedAt: r["startedAt"], endedAt: r["endedAt"], outcome: outcome, error: r["error"])
            }
        }
    }

    /// When a worker id was first seen (nil if never).
    public func firstSeen(worker id: String) throws -> Double? {
        try read { db in try Double.fetchOne(db, sql: "SELECT firstSeen FROM workers WHERE id = ?", arguments: [id]) }
    }

    public func workers() throws -> [WorkerRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM workers ORDER BY firstSeen").map { r in
                WorkerRecord(id: r["id"], host: r["host"], codeVersion: r["codeVersion"], threads: r["threads"],
                             memoryBytes: r["memoryBytes"], slots: r["slots"], firstSeen: r["firstSeen"],
                             lastSeen: r["lastSeen"], state: r["state"], kernel: r["kernel"])
            }
        }
    }

    /// Events in order; `kind` filters when given.
    public func events(kind: String? = nil) throws -> [EventRecord] {
        try read { db in
            let rows = kind == nil ? try Row.fetchAll(db, sql: "SELECT * FROM events ORDER BY id")
                : try Row.fetchAll(db, sql: "SELECT * FROM events WHERE kind = ? ORDER BY id", arguments: [kind])
            return rows.map { EventRecord(time: $0["time"], kind: $0["kind"], task: $0["task"], worker: $0["worker"], detail: $0["detail"]) }
        }
    }

    /// The run summary as `seafold status` prints it.
    public func status(now: Double = Date().timeIntervalSince1970) throws -> RunStatus {
        let all = try tasks()
        let attempts = try timeline()
        let connectedIDs = Set(try workers().filter { $0.state == "connected" }.map(\.id))
        // A finished run's clock stops at its last event, not at whenever status is asked.
        var end = now
        if !all.contains(where: { $0.state == .pending || $0.state == .running }) {
            let lastEvent = try read { db in try Double.fetchOne(db, sql: "SELECT MAX(time) FROM events") }
            let last = ([lastEvent] + all.map(\.finishedAt) + attempts.map(\.endedAt)).compactMap { $0 }.max()
            if let last { end = min(now, last) }
        }
        var st = Ledger.summarize(all, attempts: attempts, connectedWorkers: connectedIDs.count, now: end)
        st.storageProblem = NoticeFile(runDirectory: runDirectory).storageProblem()
        // A worker is quarantined if its last quarantine event has no release after it.
        var q: [String: String] = [:]
        for e in try read({ db in try Row.fetchAll(db, sql: "SELECT * FROM events WHERE kind IN ('worker-quarantined', 'worker-released') ORDER BY id") }) {
            guard let w: String = e["worker"] else { continue }
            if (e["kind"] as String) == "worker-quarantined" { q[w] = e["detail"] } else { q[w] = nil }
        }
        q = q.filter { connectedIDs.contains($0.key) }
        if !q.isEmpty { st.quarantined = q }
        return st
    }

    /// Where a stored artifact came from ("import:NAME", "upload:WORKER").
    public func artifactOrigin(_ hash: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT origin FROM artifacts WHERE hash = ?", arguments: [hash]) }
    }

    /// Records a request for the coordinator; returns its id.
    @discardableResult
    public func addRequest(kind: String, task: String, withDependents: Bool = false, now: Double = Date().timeIntervalSince1970) throws -> Int64 {
        var id: Int64 = 0
        do {
            try db.write { db in
                try db.execute(sql: "INSERT INTO requests (kind, task, withDependents, createdAt) VALUES (?,?,?,?)",
                               arguments: [kind, task, withDependents, now])
                id = db.lastInsertedRowID
            }
        } catch { throw ClusterError.io(path: path, reason: "ledger write failed: \(error)") }
        return id
    }

    public func request(_ id: Int64) throws -> RequestRecord? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM requests WHERE id = ?", arguments: [id]).map(Ledger.request(from:)) }
    }

    func pendingRequests() throws -> [RequestRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM requests WHERE appliedAt IS NULL ORDER BY id").map(Ledger.request(from:)) }
    }

    func resolveRequest(_ id: Int64, outcome: String, now: Double) throws {
        do {
            try db.write { db in try db.execute(sql: "UPDATE requests SET appliedAt = ?, outcome = ? WHERE id = ?", arguments: [now, outcome, id]) }
        } catch { throw ClusterError.io(path: path, reason: "ledger write failed: \(error)") }
    }

    static func request(from r: Row) -> RequestRecord {
        RequestRecord(id: r["id"], kind: r["kind"], task: r["task"], withDependents: r["withDependents"], createdAt: r["createdAt"],
                      appliedAt: r["appliedAt"], outcome: r["outcome"])
    }

    /// The full task id of `text`: an id, or a prefix that starts exactly one id.
    public func resolveTaskID(_ text: String) throws -> String {
        try Ledger.resolve(prefix: text, among: try tasks().map(\.id))
    }

    static func resolve<S: Sequence>(prefix text: String, among ids: S) throws -> String where S.Element == String {
        let all = Array(ids)
        if all.contains(text) { return text }
        let matches = text.isEmpty ? [] : all.filter { $0.hasPrefix(text) }.sorted()
        guard matches.count == 1 else {
            throw ClusterError.task(id: text, reason: matches.isEmpty ? "no task id starts with it" : "is ambiguous: \(matches.count) task ids start with it (\(matches.prefix(3).map { String($0.prefix(16)) }.joined(separator: ", "))…)")
        }
        return matches[0]
    }

    static func summarize(_ all: [TaskRecord], attempts: [AttemptRecord], connectedWorkers: Int, now: Double) -> RunStatus {
        var count: [TaskState: Int] = [:]
        for t in all { count[t.state, default: 0] += 1 }
        let current = Dictionary(attempts.filter { $0.outcome == .running }.map { ($0.leaseToken, $0) }, uniquingKeysWith: { a, _ in a })
        let running = all.filter { $0.state == .running }.map { t -> RunStatus.Running in
            let a = t.currentLease.flatMap { current[$0] }
            return RunStatus.Running(id: t.id, label: t.label, worker: a?.workerID ?? "?", attempt: t.attempts,
                                     fraction: t.progress, message: t.progressMessage, elapsed: a.map { now - $0.startedAt } ?? 0)
        }
        let doneDurations = attempts.filter { $0.outcome == .done }.compactMap { a in a.endedAt.map { $0 - a.startedAt } }
        let remaining = (count[.pending] ?? 0) + (count[.running] ?? 0)
        var eta: Double?
        if !doneDurations.isEmpty, remaining > 0 {
            let mean = doneDurations.reduce(0, +) / Double(doneDurations.count)
            let parallel = Double(max(1, max(connectedWorkers, running.count)))
            let runningLeft = running.map { max(0, mean - $0.elapsed) }.reduce(0, +)
            eta = (Double(count[.pending] ?? 0) * mean + runningLeft) / parallel
        }
        let first = all.map(\.submittedAt).min() ?? now
        return RunStatus(total: all.count, done: count[.done] ?? 0, running: count[.running] ?? 0, pending: count[.pending] ?? 0,
                         failed: count[.failed] ?? 0, blocked: count[.blocked] ?? 0, runningTasks: running,
                         failures: Dictionary(all.filter { $0.state == .failed }.map { ($0.id, $0.lastError ?? "") }, uniquingKeysWith: { a, _ in a }),
                         connectedWorkers: connectedWorkers, elapsed: now - first, eta: eta, finished: remaining == 0)
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try db.read { db in try body(db) } } catch let e as ClusterError { throw e } catch {
            throw ClusterError.io(path: runDirectory.appendingPathComponent("ledger.sqlite").path, reason: "ledger read failed: \(error)")
        }
    }

    static func task(from r: Row) -> TaskRecord {
        func decode<T: Decodable>(_ s: String?, _ fallback: T) -> T {
            guard let s, let v = try? JSONDecoder().decode(T.self, from: Data(s.utf8)) else { return fallback }
            return v
        }
        return TaskRecord(id: r["id"], kind: r["kind"], label: r["label"], spec: r["spec"] ?? Data(),
                          dependencies: decode(r["dependencies"], []), inputs: decode(r["inputs"], [:]),
                          priority: r["priority"], state: TaskState(rawValue: r["state"]) ?? .pending,
                          attempts: r["attempts"], failures: r["failures"], lastError: r["lastError"], result: r["result"],
                          artifacts: decode(r["artifacts"], [:]), checkpoint: r["checkpoint"], currentLease: r["currentLease"],
                          progress: r["progress"], progressMessage: r["progressMessage"], submittedAt: r["submittedAt"],
                          finishedAt: r["finishedAt"], sequence: r["seq"], expectedSeconds: r["expectedSeconds"])
    }
}

import Foundation

/// One task as the ledger knows it (read API for the report and `seafold status`).
public struct TaskRecord: Codable, Equatable, Sendable {
    public var id: String
    public var kind: String
    public var label: String
    public var spec: Data
    public var dependencies: [String]
    public var inputs: [String: ArtifactRef]
    public var priority: Int
    public var state: TaskState
    /// Leases handed out so far (attempt numbers are 1…attempts).
    public var attempts: Int
    /// Attempts that failed or lost their worker (counted against `maxAttempts`).
    public var failures: Int
    public var lastError: String?
    /// The runner's result JSON once done.
    public var result: Data?
    /// Output artifacts name → sha256 once done.
    public var artifacts: [String: String]
    /// Latest uploaded checkpoint (sha256).
    public var checkpoint: String?
    public var currentLease: String?
    public var progress: Double
    public var progressMessage: String
    public var submittedAt: Double
    public var finishedAt: Double?
    /// Submission order (ties in priority run in this order).
    public var sequence: Int
    /// The planner's estimate of one attempt in seconds (for the lease deadline).
    public var expectedSeconds: Double? = nil
}

/// A request from the CLI (`seafold retry`, `seafold invalidate`) for the coordinator, which
/// applies it at its next housekeeping tick (or when it next starts) and records the outcome.
public struct RequestRecord: Codable, Equatable, Sendable {
    public var id: Int64
    /// retry, invalidate
    public var kind: String
    /// A task id or a unique prefix of one.
    public var task: String
    public var withDependents: Bool
    public var createdAt: Double
    public var appliedAt: Double?
    /// "applied: …" or "rejected: why".
    public var outcome: String?
}

/// One lease (attempt) of a task: who ran it, when, and how it ended.
public struct AttemptRecord: Codable, Equatable, Sendable {
    public var leaseToken: String
    public var taskID: String
    public var attempt: Int
    public var workerID: String
    public var startedAt: Double
    public var endedAt: Double?
    public var outcome: AttemptOutcome
    public var error: String?
}

/// A worker that connected at some time.
public struct WorkerRecord: Codable, Equatable, Sendable {
    public var id: String
    public var host: String
    public var codeVersion: String
    public var threads: Int
    public var memoryBytes: Int64
    public var slots: Int
    public var firstSeen: Double
    public var lastSeen: Double
    /// connected, lost, gone (said BYE), refused.
    public var state: String
    /// BLAS kernel and CPU ISA level the worker reported ("Haswell avx2"), if it did.
    public var kernel: String? = nil
}

/// One state change (also appended to RUN/events.jsonl).
public struct EventRecord: Codable, Equatable, Sendable {
    public var time: Double
    public var kind: String
    public var task: String?
    public var worker: String?
    public var detail: String
}

/// A summary of a run for `seafold status` and live progress.
public struct RunStatus: Codable, Equatable, Sendable {
    public struct Running: Codable, Equatable, Sendable {
        public var id: String
        public var label: String
        public var worker: String
        public var attempt: Int
        public var fraction: Double
        public var message: String
        public var elapsed: Double
    }
    public var total: Int
    public var done: Int
    public var running: Int
    public var pending: Int
    public var failed: Int
    public var blocked: Int
    public var runningTasks: [Running]
    /// Failed task id → last error.
    public var failures: [String: String]
    public var connectedWorkers: Int
    /// Seconds since the first task was submitted.
    public var elapsed: Double
    /// Rough estimate of seconds left: mean duration of done tasks × remaining / parallelism.
    public var eta: Double?
    /// True when nothing more can run (everything done, failed or blocked).
    public var finished: Bool
    /// Set while the coordinator is paused because its run directory is out of space.
    public var storageProblem: String? = nil
    /// Workers that get no work for now: id → why (and until when).
    public var quarantined: [String: String]? = nil

    /// One line for a terminal: "12/40 done, 2 running, 0 failed, ETA 3m 10s".
    public var summaryLine: String {
        var s = "\(done)/\(total) done, \(running) running, \(pending) pending, \(failed) failed"
        if blocked > 0 { s += ", \(blocked) blocked" }
        if let e = eta, !finished { s += ", ETA \(RunStatus.format(seconds: e))" }
        if let q = quarantined, !q.isEmpty { s += ", quarantined: " + q.keys.sorted().map { "\($0) (\(q[$0]!))" }.joined(separator: "; ") }
        if let p = storageProblem { s += " | PAUSED: \(p)" }
        return s
    }

    public static func format(seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h \((s % 3600) / 60)m" }
        if s >= 60 { return "\(s / 60)m \(s % 60)s" }
        return "\(s)s"
    }
}

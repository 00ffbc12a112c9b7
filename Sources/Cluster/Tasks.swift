import Foundation

/// Where a task input comes from: an artifact already in the coordinator's store (by sha256),
/// or the named output artifact of another task (resolved when the task is assigned).
public enum ArtifactRef: Codable, Equatable, Hashable, Sendable {
    case hash(String)
    case output(task: String, name: String)
}

/// One opaque unit of work in the run's task graph. `Cluster` never looks inside `spec`
/// (JSON for the worker's runner). Tasks run only when every dependency is done; among ready
/// tasks, higher `priority` goes first (the lead gives long fine-tunes higher priority).
public struct TaskDescriptor: Codable, Equatable, Sendable {
    public var id: String
    public var kind: String
    public var label: String
    public var spec: Data
    public var dependencies: [String]
    public var inputs: [String: ArtifactRef]
    public var priority: Int
    /// The planner's estimate of one attempt in seconds: a lease's deadline is at least
    /// `deadlineFactor` times this (`CoordinatorOptions.taskDeadlineFloor`).
    public var expectedSeconds: Double?

    public init(id: String, kind: String, label: String, spec: Data, dependencies: [String] = [],
                inputs: [String: ArtifactRef] = [:], priority: Int = 0, expectedSeconds: Double? = nil) {
        self.id = id; self.kind = kind; self.label = label; self.spec = spec
        self.dependencies = dependencies; self.inputs = inputs; self.priority = priority
        self.expectedSeconds = expectedSeconds
    }
}

/// What a worker's runner is asked to do: one lease on one task.
public struct TaskAssignment: Sendable {
    public var taskID: String
    public var kind: String
    public var label: String
    public var spec: Data
    /// 1 for the first attempt, counting every lease handed out for this task.
    public var attempt: Int
    public var leaseToken: String
}

/// What a runner can do while it runs: fetch inputs (cached by hash, verified), report
/// progress, upload and read checkpoints, use a private scratch directory.
public protocol TaskContext {
    /// A local file with the named input's bytes (fetched from the coordinator if not cached).
    func input(_ name: String) throws -> URL
    /// Reports progress (0…1) with a short message such as "epoch 3/30 loss 0.41".
    func progress(_ fraction: Double, _ message: String)
    /// Uploads a checkpoint; a later attempt of this task (maybe on another worker) gets it from
    /// `latestCheckpoint()`.
    func saveCheckpoint(_ file: URL) throws
    /// The latest checkpoint uploaded by any attempt of this task, fetched locally; nil if none.
    func latestCheckpoint() throws -> URL?
    /// An empty directory for this attempt; removed after the outcome is uploaded.
    var scratchDirectory: URL { get }
    /// True once the coordinator has cancelled this lease (CANCEL: past its deadline, or its
    /// inputs were invalidated): the runner should stop; its result would be ignored.
    var isCancelled: Bool { get }
}

extension TaskContext {
    public var isCancelled: Bool { false }
    /// Throws if the lease was cancelled: call between units of work.
    public func checkCancelled() throws {
        if isCancelled { throw ClusterError.cancelled("the coordinator cancelled this lease") }
    }
}

/// A runner's result: JSON for the ledger and named output files to upload.
public struct TaskOutcome: Sendable {
    public var result: Data
    public var artifacts: [String: URL]

    public init(result: Data, artifacts: [String: URL] = [:]) {
        self.result = result
        self.artifacts = artifacts
    }
}

/// The states of a task in the ledger.
public enum TaskState: String, Codable, Sendable, CaseIterable {
    /// Waiting for dependencies or a free worker.
    case pending
    /// Leased to a worker.
    case running
    case done
    /// Failed `maxAttempts` times; the last error is kept.
    case failed
    /// A dependency failed; retried with it.
    case blocked
}

import Foundation
import SeafoldCore

/// What a running task can ask of whoever runs it: a worker of the cluster, or the local
/// executor. Mirrors `Cluster.TaskContext` so the CLI adapts one to the other in a few lines,
/// and keeps `Pipeline` free of any networking.
public protocol TaskIO: AnyObject {
    /// A local file holding the named input (fetched and verified by the runner).
    func input(_ name: String) throws -> URL
    /// True when the named input exists (optional inputs, e.g. masks of real data).
    func hasInput(_ name: String) -> Bool
    /// Progress for people: a fraction in [0, 1] and a short message ("epoch 3/30 loss 0.41").
    func progress(_ fraction: Double, _ message: String)
    /// Stores a resumable checkpoint; the newest one is handed back to a restarted task.
    func saveCheckpoint(_ file: URL) throws
    func latestCheckpoint() throws -> URL?
    /// A private directory for the task's outputs and temporary files.
    var scratchDirectory: URL { get }
}

/// A finished task: its result JSON and its output files by name.
public struct TaskOutput {
    public var result: Data
    public var artifacts: [String: URL]
    public init(result: Data, artifacts: [String: URL]) { self.result = result; self.artifacts = artifacts }
}

/// Runs any task of the experiment from its spec: the one function a worker calls.
public enum TaskRunner {
    public static func run(spec: TaskSpec, io: TaskIO) throws -> TaskOutput {
        switch spec {
        case let .pretrain(s): return try PretrainTask.run(s, io: io)
        case let .finetune(s): return try FineTuneTask.run(s, io: io)
        case let .baseline(s): return try BaselineTask.run(s, io: io)
        case let .heads(s): return try HeadsTask.run(s, io: io)
        case let .divergence(s): return try DivergenceTask.run(s, io: io)
        case let .explain(s): return try ExplainTask.run(s, io: io)
        }
    }

    /// JSON the way every result is stored: sorted keys, so equal results are equal bytes.
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return try enc.encode(value)
    }
}

/// The result JSON of a fine-tune or baseline: its training curve and its own output layer's
/// test metrics (reported beside the three heads). No timings or resume points: equal specs
/// give equal bytes (timings live in the ledger's timeline).
public struct NetworkResult: Codable, Equatable, Sendable {
    public var curve: TrainingCurve
    public var output: HeadResult
}

/// The result JSON of a heads task: the head's metrics and, for the FC head, its curve.
public struct HeadsTaskResult: Codable, Equatable, Sendable {
    public var head: HeadResult
    public var curve: TrainingCurve?
}

/// The result JSON of a pretrain task.
public struct PretrainResult: Codable, Equatable, Sendable {
    public var source: PretrainedSource
    public var classes: Int
    public var epochs: [EpochStats]
}

/// Moves `source` over `destination` in one step (POSIX rename), so a reader never sees a
/// half-written checkpoint.
public func atomicReplace(_ destination: URL, with source: URL) throws {
    guard rename(source.path, destination.path) == 0 else {
        throw SeafoldError.io(path: destination.path, reason: "cannot replace: \(String(cString: strerror(errno)))")
    }
}

import Foundation

/// A task whose result is known, wherever it ran: the planner's node plus its result JSON and
/// output files. The report is built from a list of these (complete or not).
public struct CompletedTask {
    public var task: PlannedTask
    public var result: Data
    public var artifacts: [String: URL]
    public init(task: PlannedTask, result: Data, artifacts: [String: URL]) {
        self.task = task; self.result = result; self.artifacts = artifacts
    }
}

/// The state of a task that has no result, for the report's gaps.
public struct IncompleteTask {
    public var task: PlannedTask
    /// "failed: <error>", "blocked by a failed input", "pending", "running"…
    public var reason: String
    public init(task: PlannedTask, reason: String) { self.task = task; self.reason = reason }
}

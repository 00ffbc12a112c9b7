import Foundation

/// A task whose result is known, wherever it ran: the planner's node plus its result JSON and
/// output files. The report is built from a list of these (complete or not).
public struct CompletedTask {
    public var task: PlannedTask
    public var result: Data
    public var artifacts: [String: URL]
    /// Where the result JSON was read from (a file, the ledger), for error messages.
    public var resultSource: String?
    public init(task: PlannedTask, result: Data, artifacts: [String: URL], resultSource: String? = nil) {
        self.task = task; self.result = result; self.artifacts = artifacts; self.resultSource = resultSource
    }
}

/// The state of a task that has no result, for the report's gaps.
public struct IncompleteTask {
    public var task: PlannedTask
    /// "failed: <error>", "blocked by a failed input", "pending", "running"…
    public var reason: String
    public init(task: PlannedTask, reason: String) { self.task = task; self.reason = reason }
}

import Foundation
import Logging

/// The serving thread's steps in `Coordinator.run`, told to `CoordinatorOptions.loopObserver`.
public enum CoordinatorLoopEvent: Sendable {
    /// `run` started, or is about to return.
    case started, stopped
    /// One turn of the serving loop, before it waits for messages.
    case turn
    /// A message arrived: what is queued is drained and handled, its DONEs committed in one
    /// ledger transaction and the freed slots dispatched, then `batchEnded`.
    case batchBegan
    /// That batch is done; `leasesSent` ASSIGNs went out with it.
    case batchEnded(leasesSent: Int)
}

/// Settings of a coordinator. Defaults follow the Paranoid Pirate figures (docs/REFERENCE_SEMANTICS.md).
public struct CoordinatorOptions {
    /// Workers must announce exactly this version, or they are refused.
    public var codeVersion: String
    public var heartbeatInterval: TimeInterval = 1
    public var liveness: Int = 3
    /// Counted failures before a task is marked failed (see `Scheduler` for what counts).
    public var maxAttempts: Int = 3
    /// Leases of any kind per task before it fails: `leaseCapFactor × maxAttempts`.
    public var leaseCapFactor: Int = 4
    /// Consecutive failures of one worker on distinct tasks that quarantine it.
    public var quarantineAfter: Int = 3
    /// First quarantine in seconds (doubling with each further one).
    public var quarantineSeconds: TimeInterval = 30
    /// A lease's deadline is max(this, deadlineFactor × the task's expected seconds,
    /// deadlineFactor × the slowest done lease of its kind); nil: no deadlines.
    public var taskDeadlineFloor: TimeInterval? = 6 * 3600
    public var deadlineFactor: Double = 3
    /// CURVE server keys; with them, `allowedKeysDirectory` (a folder of `*.pub`) is required.
    public var curve: CurveKeyPair?
    public var allowedKeysDirectory: URL?
    /// Allow binding a non-loopback address without CURVE.
    public var insecure: Bool = false
    /// Called about once a second (and at the end) with the run summary.
    public var onProgress: ((RunStatus) -> Void)?
    /// Told what the serving thread is doing, on that thread and under the coordinator's lock
    /// (so it must not call back into the coordinator): a caller that measures the
    /// coordinator's own CPU time and batch latency installs it. nil: nothing is measured.
    public var loopObserver: ((CoordinatorLoopEvent) -> Void)?
    /// Print a live status line on stderr (default: when stderr is a terminal). Stdout is for
    /// results: a status line there made `--json` output invalid.
    public var printProgress: Bool = isatty(STDERR_FILENO) == 1
    /// Send BYE to workers when `run(until: .allSettled)` ends, so they exit.
    public var dismissWorkersWhenFinished: Bool = true
    /// Bytes the store may hold in checkpoints at once: the run's disk budget less its expected
    /// final size (results always arrive, so only the rest is checkpoints' room). A checkpoint
    /// upload that would pass it is declined (the worker keeps it); results are always taken.
    public var checkpointRoomBytes: Int64?
    /// The run directory's disk budget. Results are always taken; if they alone carry the run
    /// directory past it (the plan's size estimate was low), the coordinator says so once, in
    /// its log and as a `budget-exceeded` event.
    public var budgetBytes: Int64?
    public var logger = Logger(label: "seafold.coordinator")

    public init(codeVersion: String) { self.codeVersion = codeVersion }
}

/// When `Coordinator.run` returns.
public enum CoordinatorRunMode: Sendable {
    /// When no task is pending or running (all done, failed or blocked), or on `stop()`.
    case allSettled
    /// Only on `stop()` (serve forever; tasks may be submitted while running).
    case stopped
    /// When every task is done, or on `stop()`: a run whose failed tasks were settled keeps
    /// serving so `seafold retry` can put them back and workers can finish them.
    case allDone
}

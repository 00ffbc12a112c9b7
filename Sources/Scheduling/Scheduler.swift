/// The scheduling policy of a seafold run as a pure state machine (after swift-cluster-membership's
/// `SWIMInstance`): the owner feeds it events (`handle(_:now:)`) and asks it for leases
/// (`dispatch(now:inputs:)`); it answers with `Directive`s that the owner carries out (send an
/// ASSIGN or a CANCEL, write ledger rows). It has no sockets, files, clocks or randomness: time
/// is an argument and lease tokens come from the injected `makeToken`.
///
/// The coordinator, `LocalExecutor` and `ScheduleSimulation` all drive this one value.
///
/// Accounting rules (docs/ARCHITECTURE.md, "Scheduler"):
/// - Only a failure with blame `.task` or a deadline overrun counts against the task
///   (`failures`, limit `maxAttempts`). A BYE, an eviction by a reconnect, a dismissal, "worker
///   busy", a coordinator restart and a result the ledger could not take count against nobody.
/// - A worker-side resource problem (its own disk full) counts against the worker only.
/// - A refusal by the coordinator (it refused the upload for space) counts against nobody.
/// - A lease lost because its worker went silent counts against the worker; it counts against
///   the task only when it already happened to the same task on another worker.
/// - A task fails after `maxAttempts` counted failures, and only if they happened on at least
///   two distinct workers, unless fewer than two workers are connected.
/// - Every lease counts toward `leaseCap` (`leaseCapFactor × maxAttempts`): a task whose leases
///   reach the cap without a result fails, whatever the blame, so nothing bounces for ever.
/// - A worker with `quarantineAfter` failures held against it in a row (no DONE in between;
///   task errors and silent leases count once per distinct task, its own resource problems
///   each time) is quarantined: it
///   gets no work for `quarantineBase` seconds, doubling each time (up to `quarantineMax`), and
///   the failures it caused are taken back from every task that is not done. For task errors
///   this needs another usable worker connected (a lone worker failing is no evidence).
/// - A task is not handed back to a worker it ended badly on while another free worker can take
///   it; its deciding attempt waits for a worker it has not failed on, if one is connected.
public struct Scheduler {
    /// Tunables of the policy.
    public struct Policy: Sendable {
        /// Counted failures before a task fails.
        public var maxAttempts = 3
        /// Leases of any kind per task before it fails: `leaseCapFactor × maxAttempts`.
        public var leaseCapFactor = 4
        /// Consecutive counted failures of one worker on distinct tasks that quarantine it.
        public var quarantineAfter = 3
        /// First quarantine in seconds; each further one doubles, up to `quarantineMax`.
        public var quarantineBase = 30.0
        public var quarantineMax = 1920.0
        /// Deadline of a lease: max(floor, factor × expected, factor × slowest completed lease
        /// of the same kind). nil: leases have no deadline.
        public var deadlineFloor: Double?
        public var deadlineFactor = 3.0

        public init(maxAttempts: Int = 3) { self.maxAttempts = maxAttempts }
        public var leaseCap: Int { max(1, leaseCapFactor * maxAttempts) }
    }

    /// A task as submitted: its place in the order and its dependencies.
    public struct Task: Sendable, Equatable {
        public var id: String
        public var kind: String
        public var priority: Int
        /// Submission order: ties in priority go to the lower sequence.
        public var sequence: Int
        public var dependencies: [String]
        /// The planner's estimate of one attempt in seconds (for the deadline).
        public var expectedSeconds: Double?
        /// Restored state (a coordinator restarting from its ledger); new tasks are pending.
        public var phase: Phase
        public var leases: Int
        public var failures: Int

        public init(id: String, kind: String = "", priority: Int = 0, sequence: Int, dependencies: [String] = [],
                    expectedSeconds: Double? = nil, phase: Phase = .pending, leases: Int = 0, failures: Int = 0) {
            self.id = id; self.kind = kind; self.priority = priority; self.sequence = sequence
            self.dependencies = dependencies; self.expectedSeconds = expectedSeconds
            self.phase = phase; self.leases = leases; self.failures = failures
        }
    }

    /// Where a task stands.
    public enum Phase: String, Sendable, Equatable { case pending, running, done, failed, blocked }

    /// Who is to blame for a failed lease.
    public enum Blame: String, Sendable, Equatable {
        /// The task's own error: counts against the task and the worker.
        case task
        /// The worker's own resources (its disk is full): counts against the worker only.
        case workerResource
        /// The coordinator refused the lease's upload (no space there): counts against nobody.
        case coordinatorRefusal
    }

    /// Why a worker is gone.
    public enum LeaveReason: String, Sendable, Equatable {
        /// It said BYE (e.g. a scale-down).
        case bye
        /// The same worker connected again; leases it no longer runs end.
        case evicted
        /// Silent past the liveness limit: its leases expired (counts against the worker).
        case silent
        /// The coordinator sent it away (run finished).
        case dismissed
        /// Its connection is gone (a message could not be delivered).
        case unreachable
    }

    /// How a lease ended without a result (`AttemptRecord.outcome`).
    public enum LeaseEnd: String, Sendable, Equatable {
        case failed, lost, busy, refused, timedOut = "timed-out", cancelled
    }

    /// What the scheduler is told.
    public enum Event: Sendable {
        case submitted([Task])
        /// A worker (re)joined: slots and the leases it still runs.
        case workerJoined(worker: String, slots: Int, running: [String])
        case workerLeft(worker: String, reason: LeaveReason, detail: String)
        case done(lease: String, worker: String)
        case failed(lease: String, worker: String, blame: Blame, error: String)
        /// The worker had no free slot for the lease.
        case busy(lease: String, worker: String)
        /// A result for a lease that is no longer current: the slot it used is free again.
        case staleResult(lease: String, worker: String)
        /// Leases of the last dispatch whose ledger write failed: as if never handed out.
        case leasesAborted([String])
        /// An ASSIGN that could not be delivered (not counted).
        case undelivered(lease: String)
        /// A DONE whose ledger write failed: the task runs again, counted against nobody.
        case doneNotRecorded(lease: String, worker: String, error: String)
        /// A lease ended for a reason outside the task and the worker (e.g. its input artifact was
        /// found corrupt on the coordinator): requeued, counted against nobody.
        case abandon(lease: String, error: String)
        /// Deadlines and quarantine ends.
        case tick
        /// Failed tasks back to pending with fresh counts (and what they blocked).
        case retry(tasks: [String])
        /// Done tasks back to pending (their outputs are bad or unwanted); with dependents,
        /// everything downstream that is done or running runs again too.
        case invalidate(task: String, withDependents: Bool, reason: String)
    }

    /// What the owner must do.
    public enum Directive: Sendable, Equatable {
        /// Send the task to the worker under a new lease (attempt = leases so far).
        case assign(task: String, worker: String, lease: String, attempt: Int)
        /// The lease is over without a result; `counted`: held against the task.
        case leaseEnded(task: String, lease: String, worker: String, end: LeaseEnd, counted: Bool, error: String)
        /// Tell the worker to abandon this lease (it is no longer current).
        case cancel(lease: String, worker: String)
        /// The task is pending again.
        case requeued(task: String)
        /// The task is done (the lease's result is accepted).
        case completed(task: String, lease: String, worker: String)
        /// The task failed for good: `reason` says why (for the event), `error` is the error to
        /// keep as the task's last error.
        case failed(task: String, reason: String, error: String)
        case blocked([String])
        case unblocked([String])
        /// A retry or invalidation reset the task to pending with fresh counts.
        case reset(task: String, reason: String)
        case quarantined(worker: String, until: Double, reason: String)
        case released(worker: String)
        /// Failures a quarantined worker caused, taken back from a task.
        case forgiven(task: String, worker: String, failures: Int)
        /// A request that does not apply (unknown id, wrong state).
        case rejected(String)
    }

    struct TaskState {
        var task: Task
        var phase: Phase
        var leases: Int
        var failures: Int
        var lease: String?
        var worker: String?
        var leaseStart = 0.0
        /// Counted failures per worker (forgiven when that worker is quarantined).
        var failedOn: [String: Int] = [:]
        /// Workers on which this task ended without a result (avoided when others are free).
        var avoid: Set<String> = []
        /// Workers that went silent while running it.
        var silentOn: Set<String> = []
    }

    struct WorkerState {
        var slots: Int
        var leases: Set<String> = []
        /// Leases it still runs that are no longer current: they hold a slot until it reports.
        var staleBusy: Set<String> = []
        var order: Int
        var freeSlots: Int { slots - leases.count - staleBusy.count }
    }

    /// A worker's record over the run (kept across reconnects).
    struct WorkerHistory {
        /// Tasks of the current run of counted failures (reset by a DONE).
        var failedTasks: [String] = []
        var quarantines = 0
        var quarantinedUntil: Double?
        var reason = ""
    }

    public var policy: Policy
    public var makeToken: () -> String
    var tasks: [String: TaskState] = [:]
    var dependents: [String: [String]] = [:]
    var workers: [String: WorkerState] = [:]
    var history: [String: WorkerHistory] = [:]
    var leaseTask: [String: String] = [:]
    /// Task of each lease that ended with DONE (for `doneNotRecorded`).
    var completedBy: [String: String] = [:]
    var slowest: [String: Double] = [:]
    var pendingOrder: [String] = []
    var pendingOrderStale = true
    var maybeFree = Set<String>()
    var nextOrder = 0

    public init(policy: Policy = Policy(), makeToken: @escaping () -> String) {
        self.policy = policy
        self.makeToken = makeToken
    }

    // MARK: queries

    /// A task's state as the owner records it.
    public struct TaskView: Equatable, Sendable {
        public var phase: Phase
        public var leases: Int
        public var failures: Int
        public var lease: String?
        public var worker: String?
    }

    /// A task's phase and counts, nil if unknown.
    public func task(_ id: String) -> TaskView? {
        tasks[id].map { TaskView(phase: $0.phase, leases: $0.leases, failures: $0.failures, lease: $0.lease, worker: $0.worker) }
    }

    /// The task and worker of a current lease.
    public func lease(_ token: String) -> (task: String, worker: String)? {
        guard let id = leaseTask[token], let t = tasks[id], t.lease == token, let w = t.worker else { return nil }
        return (id, w)
    }

    /// Quarantined workers: id → (until, reason).
    public var quarantined: [String: (until: Double, reason: String)] {
        var out: [String: (until: Double, reason: String)] = [:]
        for (w, h) in history { if let u = h.quarantinedUntil { out[w] = (u, h.reason) } }
        return out
    }

    /// Current leases.
    public var leaseCount: Int { leaseTask.count }
    /// True while a task is pending or running (the run is not settled).
    public var hasWork: Bool { tasks.values.contains { $0.phase == .pending || $0.phase == .running } }
    /// Workers joined and not gone.
    public var connectedWorkers: Int { workers.count }

    /// Free slots of a worker (nil if not connected).
    public func freeSlots(_ worker: String) -> Int? { workers[worker]?.freeSlots }

    /// The deadline of a lease that started now on this task.
    public func deadline(of id: String) -> Double? {
        guard let floor = policy.deadlineFloor, let t = tasks[id] else { return nil }
        var d = floor
        if let e = t.task.expectedSeconds { d = max(d, policy.deadlineFactor * e) }
        if let s = slowest[t.task.kind] { d = max(d, policy.deadlineFactor * s) }
        return d
    }

    /// A lease of this kind that completed in `seconds` (history from the ledger at start): the
    /// deadline of the kind is at least `deadlineFactor` times the slowest.
    public mutating func noteCompleted(kind: String, seconds: Double) {
        slowest[kind] = max(slowest[kind] ?? 0, seconds)
    }
}

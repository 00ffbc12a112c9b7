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

    // MARK: events

    /// Applies one event at time `now`; returns what the owner must do, in order.
    public mutating func handle(_ event: Event, now: Double) -> [Directive] {
        var out: [Directive] = []
        switch event {
        case let .submitted(list): submit(list, &out)
        case let .workerJoined(w, slots, running): join(w, slots: slots, running: running, now: now, &out)
        case let .workerLeft(w, reason, detail): leave(w, reason: reason, detail: detail, now: now, &out)
        case let .done(token, w): complete(token, worker: w, now: now, &out)
        case let .failed(token, w, blame, error):
            guard holds(w, token) else { break }
            switch blame {
            case .task: endLease(token, end: .failed, countTask: true, countWorker: true, error: error, now: now, &out)
            case .workerResource: endLease(token, end: .failed, countTask: false, countWorker: true, error: error, now: now, &out)
            case .coordinatorRefusal: endLease(token, end: .refused, countTask: false, countWorker: false, error: error, now: now, &out)
            }
        case let .busy(token, w):
            guard holds(w, token) else { break }
            endLease(token, end: .busy, countTask: false, countWorker: false, error: "worker busy", now: now, &out)
        case let .staleResult(token, w):
            if workers[w]?.staleBusy.remove(token) != nil { maybeFree.insert(w) }
        case let .leasesAborted(tokens): for t in tokens { abort(t) }
        case let .undelivered(token):
            endLease(token, end: .lost, countTask: false, countWorker: false, error: "could not deliver the lease", now: now, &out)
        case let .doneNotRecorded(token, w, error): undoDone(token, worker: w, error: error, now: now, &out)
        case let .abandon(token, error):
            endLease(token, end: .lost, countTask: false, countWorker: false, error: error, now: now, &out)
        case .tick: tick(now: now, &out)
        case let .retry(ids): retry(ids, now: now, &out)
        case let .invalidate(id, withDependents, reason): invalidate(id, withDependents: withDependents, reason: reason, now: now, &out)
        }
        return out
    }

    private func holds(_ worker: String, _ token: String) -> Bool { lease(token)?.worker == worker }

    private mutating func submit(_ list: [Task], _ out: inout [Directive]) {
        for t in list where tasks[t.id] == nil {
            tasks[t.id] = TaskState(task: t, phase: t.phase == .running ? .pending : t.phase, leases: t.leases, failures: t.failures)
            for d in t.dependencies { dependents[d, default: []].append(t.id) }
        }
        pendingOrderStale = true
        reblock(&out)
    }

    private mutating func join(_ w: String, slots: Int, running: [String], now: Double, _ out: inout [Directive]) {
        let running = Set(running)
        var order: Int
        if let old = workers[w] {
            // A reconnect: leases it no longer runs end (the eviction is nobody's fault).
            order = old.order
            for token in old.leases.sorted() where !running.contains(token) {
                endLease(token, end: .lost, countTask: false, countWorker: false, error: "worker \(w) reconnected without it", now: now, &out)
            }
        } else {
            nextOrder += 1
            order = nextOrder
        }
        var s = WorkerState(slots: max(1, slots), order: order)
        for token in running {
            if holds(w, token) { s.leases.insert(token) } else { s.staleBusy.insert(token) }
        }
        workers[w] = s
        if history[w] == nil { history[w] = WorkerHistory() }
        maybeFree.insert(w)
    }

    private mutating func leave(_ w: String, reason: LeaveReason, detail: String, now: Double, _ out: inout [Directive]) {
        guard let s = workers.removeValue(forKey: w) else { return }
        maybeFree.remove(w)
        for token in s.leases.sorted() {
            guard let id = leaseTask[token], let t = tasks[id], t.lease == token else { continue }
            if reason == .silent {
                // The worker's fault; the task's only if another worker already went silent on it.
                let again = !t.silentOn.subtracting([w]).isEmpty
                tasks[id]!.silentOn.insert(w)
                endLease(token, end: .lost, countTask: again, countWorker: true, error: detail, now: now, &out)
            } else {
                endLease(token, end: .lost, countTask: false, countWorker: false, error: detail, now: now, &out)
            }
        }
    }

    private mutating func complete(_ token: String, worker w: String, now: Double, _ out: inout [Directive]) {
        guard holds(w, token), let id = leaseTask.removeValue(forKey: token), var t = tasks[id] else { return }
        workers[w]?.leases.remove(token)
        maybeFree.insert(w)
        slowest[t.task.kind] = max(slowest[t.task.kind] ?? 0, now - t.leaseStart)
        t.phase = .done; t.lease = nil; t.worker = nil
        tasks[id] = t
        completedBy[token] = id
        history[w]?.failedTasks = []
        out.append(.completed(task: id, lease: token, worker: w))
    }

    private mutating func undoDone(_ token: String, worker w: String, error: String, now: Double, _ out: inout [Directive]) {
        // The DONE was accepted in memory but never written: the task runs again, no one's fault.
        guard let id = completedBy.removeValue(forKey: token), var t = tasks[id], t.phase == .done else { return }
        t.phase = .pending
        tasks[id] = t
        pendingOrderStale = true
        out.append(.leaseEnded(task: id, lease: token, worker: w, end: .lost, counted: false, error: error))
        out.append(.requeued(task: id))
    }

    private mutating func abort(_ token: String) {
        guard let id = leaseTask.removeValue(forKey: token), var t = tasks[id], t.lease == token else { return }
        if let w = t.worker { workers[w]?.leases.remove(token); maybeFree.insert(w) }
        t.phase = .pending; t.lease = nil; t.worker = nil; t.leases -= 1
        tasks[id] = t
        pendingOrderStale = true
    }

    /// Ends a current lease without a result: the task is pending again or failed.
    private mutating func endLease(_ token: String, end: LeaseEnd, countTask: Bool, countWorker: Bool, error: String,
                                   now: Double, _ out: inout [Directive]) {
        guard let id = leaseTask.removeValue(forKey: token), var t = tasks[id], t.lease == token, let w = t.worker else { return }
        if workers[w]?.leases.remove(token) != nil { maybeFree.insert(w) }
        t.lease = nil; t.worker = nil
        t.avoid.insert(w)
        if countTask { t.failures += 1; t.failedOn[w, default: 0] += 1 }
        tasks[id] = t
        out.append(.leaseEnded(task: id, lease: token, worker: w, end: end, counted: countTask, error: error))
        if countWorker { noteWorkerFailure(w, task: id, resource: !countTask && end == .failed, now: now, &out) }
        guard let t2 = tasks[id] else { return }
        let usable = workers.keys.filter { history[$0]?.quarantinedUntil == nil }.count
        if t2.failures >= policy.maxAttempts && (t2.failedOn.count >= 2 || usable < 2) {
            fail(id, reason: "after \(t2.failures) failed attempts: \(error)", error: error, now: now, &out)
        } else if t2.leases >= policy.leaseCap {
            let why = "gave up after \(t2.leases) leases without a result (limit \(policy.leaseCap) = \(policy.leaseCapFactor) × maxAttempts; \(t2.failures) counted failures); last: \(error)"
            fail(id, reason: why, error: why, now: now, &out)
        } else {
            tasks[id]!.phase = .pending
            pendingOrderStale = true
            out.append(.requeued(task: id))
        }
    }

    private mutating func fail(_ id: String, reason: String, error: String, now: Double, _ out: inout [Directive]) {
        tasks[id]!.phase = .failed
        out.append(.failed(task: id, reason: reason, error: error))
        reblock(&out)
    }

    private mutating func noteWorkerFailure(_ w: String, task id: String, resource: Bool, now: Double, _ out: inout [Directive]) {
        var h = history[w] ?? WorkerHistory()
        // Task errors count once per distinct task (one bad task is no evidence against the
        // worker); the worker's own resource failures count each time.
        h.failedTasks.append(resource ? "\u{0}resource \(h.failedTasks.count)" : id)
        history[w] = h
        guard h.quarantinedUntil == nil, Set(h.failedTasks).count >= policy.quarantineAfter else { return }
        // Task errors on a lone worker are no evidence against it (the tasks may be bad); its own
        // resource problems are, and backing off is right for them even with no one else.
        let others = workers.keys.contains { $0 != w && history[$0]?.quarantinedUntil == nil }
        guard others || resource else { return }
        let span = min(policy.quarantineMax, policy.quarantineBase * Double(1 << min(h.quarantines, 30)))
        h.quarantines += 1
        h.quarantinedUntil = now + span
        h.reason = "\(Set(h.failedTasks).count) failures in a row on it (\(resource ? "its own resources" : "distinct tasks")); quarantined for \(Int(span)) s (quarantine \(h.quarantines))"
        h.failedTasks = []
        history[w] = h
        maybeFree.remove(w)
        out.append(.quarantined(worker: w, until: now + span, reason: h.reason))
        // Its failures are not held against the tasks.
        var revived: [String] = []
        for id in tasks.keys.sorted() {
            guard var t = tasks[id], t.phase != .done, let n = t.failedOn.removeValue(forKey: w) else { continue }
            t.failures -= n
            if t.phase == .failed && t.failures < policy.maxAttempts && t.leases < policy.leaseCap {
                t.phase = .pending
                revived.append(id)
            }
            tasks[id] = t
            out.append(.forgiven(task: id, worker: w, failures: n))
        }
        for id in revived { out.append(.requeued(task: id)) }
        if !revived.isEmpty { pendingOrderStale = true; unblock(&out) }
    }

    private mutating func tick(now: Double, _ out: inout [Directive]) {
        for w in history.keys.sorted() {
            if let u = history[w]?.quarantinedUntil, now >= u {
                history[w]!.quarantinedUntil = nil
                if workers[w] != nil { maybeFree.insert(w) }
                out.append(.released(worker: w))
            }
        }
        guard policy.deadlineFloor != nil else { return }
        var late: [(String, String, String, Double)] = []
        for (token, id) in leaseTask {
            guard let t = tasks[id], t.lease == token, let w = t.worker, let d = deadline(of: id), now - t.leaseStart > d else { continue }
            late.append((token, id, w, d))
        }
        for (token, id, w, d) in late.sorted(by: { $0.0 < $1.0 }) {
            // The worker still runs it: the slot stays taken until its runner ends.
            workers[w]?.staleBusy.insert(token)
            out.append(.cancel(lease: token, worker: w))
            endLease(token, end: .timedOut, countTask: true, countWorker: false,
                     error: "timed out: still running after \(Int(d)) s (deadline for \(tasks[id]?.task.kind ?? "?"))", now: now, &out)
        }
    }

    private mutating func retry(_ ids: [String], now: Double, _ out: inout [Directive]) {
        var any = false
        for id in ids {
            guard var t = tasks[id] else { out.append(.rejected("task \(id) is not known")); continue }
            guard t.phase == .failed else { out.append(.rejected("task \(id) is \(t.phase.rawValue); only failed tasks can be retried")); continue }
            t.phase = .pending; t.failures = 0; t.leases = 0; t.failedOn = [:]; t.avoid = []; t.silentOn = []
            tasks[id] = t
            out.append(.reset(task: id, reason: "retry requested"))
            any = true
        }
        if any { pendingOrderStale = true; unblock(&out) }
    }

    private mutating func invalidate(_ id: String, withDependents: Bool, reason: String, now: Double, _ out: inout [Directive]) {
        guard let t = tasks[id] else { out.append(.rejected("task \(id) is not known")); return }
        guard t.phase == .done else { out.append(.rejected("task \(id) is \(t.phase.rawValue); only done tasks can be invalidated")); return }
        // Without dependents only the task itself: pending dependents wait for it anyway, done
        // ones keep their results.
        var targets = [id], seen: Set<String> = [id]
        var i = 0
        while withDependents && i < targets.count {
            for d in dependents[targets[i]] ?? [] where seen.insert(d).inserted { targets.append(d) }
            i += 1
        }
        for x in targets {
            if let s = tasks[x], s.phase == .running, let token = s.lease, let w = s.worker {
                // Its inputs are being replaced: the lease ends, counted against nobody.
                workers[w]?.staleBusy.insert(token)
                out.append(.cancel(lease: token, worker: w))
                endLease(token, end: .cancelled, countTask: false, countWorker: false, error: "an input was invalidated: \(reason)", now: now, &out)
            }
            guard var s = tasks[x], s.phase == .done else { continue }
            s.phase = .pending; s.failures = 0; s.leases = 0; s.failedOn = [:]; s.avoid = []; s.silentOn = []
            tasks[x] = s
            out.append(.reset(task: x, reason: x == id ? reason : "an input task was invalidated: \(reason)"))
        }
        pendingOrderStale = true
    }

    // MARK: blocking

    /// Pending tasks downstream of a failed one become blocked.
    private mutating func reblock(_ out: inout [Directive]) {
        var stack = tasks.values.filter { $0.phase == .failed }.map(\.task.id)
        var newly: [String] = [], seen = Set<String>()
        while let id = stack.popLast() {
            for d in dependents[id] ?? [] where seen.insert(d).inserted {
                if tasks[d]?.phase == .pending { tasks[d]!.phase = .blocked; newly.append(d) }
                stack.append(d)
            }
        }
        if !newly.isEmpty { pendingOrderStale = true; out.append(.blocked(newly.sorted())) }
    }

    /// Blocked tasks with no failed task upstream any more become pending.
    private mutating func unblock(_ out: inout [Directive]) {
        var still = Set<String>()
        var stack = tasks.values.filter { $0.phase == .failed }.map(\.task.id)
        while let id = stack.popLast() {
            for d in dependents[id] ?? [] where still.insert(d).inserted { stack.append(d) }
        }
        let freed = tasks.values.filter { $0.phase == .blocked && !still.contains($0.task.id) }.map(\.task.id).sorted()
        for id in freed { tasks[id]!.phase = .pending }
        if !freed.isEmpty { pendingOrderStale = true; out.append(.unblocked(freed)) }
    }

    // MARK: dispatch

    /// Hands ready tasks to free workers: highest priority first, then submission order; for
    /// each task the free worker already caching most of its input bytes wins (ties: the
    /// earliest joined), avoiding workers it ended badly on while another can take it.
    /// `inputs` gives a task's input artifacts (hash → bytes); when it throws, the task fails.
    /// `caches(worker, hash)` says whether a worker holds an artifact (the owner knows: it
    /// moves the bytes).
    public mutating func dispatch(now: Double, inputs: (String) throws -> [String: Int64] = { _ in [:] },
                                  caches: (String, String) -> Bool = { _, _ in false }) -> [Directive] {
        var out: [Directive] = []
        if pendingOrderStale {
            pendingOrderStale = false
            pendingOrder = tasks.values.filter { $0.phase == .pending }
                .sorted { ($0.task.priority, -$0.task.sequence) > ($1.task.priority, -$1.task.sequence) }.map(\.task.id)
        }
        guard !pendingOrder.isEmpty else { return out }
        var free = maybeFree.compactMap { w -> (Int, String)? in
            guard let s = workers[w], s.freeSlots > 0, history[w]?.quarantinedUntil == nil else { return nil }
            return (s.order, w)
        }.sorted { $0.0 < $1.0 }.map(\.1)
        maybeFree = Set(free)
        guard !free.isEmpty else { return out }
        var taken = Set<String>()
        var examined = 0
        for id in pendingOrder {
            guard !free.isEmpty else { break }
            examined += 1
            guard var t = tasks[id], t.phase == .pending, t.task.dependencies.allSatisfy({ tasks[$0]?.phase == .done }) else { continue }
            let manifest: [String: Int64]
            do { manifest = try inputs(id) } catch {
                taken.insert(id)
                fail(id, reason: "\(error)", error: "\(error)", now: now, &out)
                continue
            }
            // Not back to a worker it ended badly on while another free worker can take it. The
            // deciding attempt (one failure short of the limit) waits for a worker it has not
            // failed on, if one is connected, so that one machine cannot fail a task.
            var candidates = Array(free.indices)
            if !t.avoid.isEmpty {
                let fresh = candidates.filter { !t.avoid.contains(free[$0]) }
                if !fresh.isEmpty {
                    candidates = fresh
                } else if t.failures == policy.maxAttempts - 1,
                          workers.keys.contains(where: { t.failedOn[$0] == nil && history[$0]?.quarantinedUntil == nil }),
                          !free.contains(where: { t.failedOn[$0] == nil }) {
                    continue
                }
            }
            var best = candidates[0], bestBytes: Int64 = -1
            if !manifest.isEmpty {
                for i in candidates {
                    let w = free[i]
                    let bytes = manifest.reduce(Int64(0)) { $0 + (caches(w, $1.key) ? $1.value + 1 : 0) }
                    if bytes > bestBytes { best = i; bestBytes = bytes }
                }
            }
            let w = free[best]
            let token = makeToken()
            t.leases += 1
            t.phase = .running; t.lease = token; t.worker = w; t.leaseStart = now
            tasks[id] = t
            leaseTask[token] = id
            workers[w]!.leases.insert(token)
            if workers[w]!.freeSlots <= 0 { free.remove(at: best) }
            out.append(.assign(task: id, worker: w, lease: token, attempt: t.leases))
            taken.insert(id)
        }
        if !taken.isEmpty { pendingOrder.replaceSubrange(0..<examined, with: pendingOrder[0..<examined].filter { !taken.contains($0) }) }
        return out
    }
}

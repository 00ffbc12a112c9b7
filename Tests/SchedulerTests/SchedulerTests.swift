import Scheduling
import XCTest

/// The scheduling policy with no sockets: events in, directives out.
final class SchedulerTests: XCTestCase {
    typealias D = Scheduler.Directive

    func makeScheduler(_ policy: Scheduler.Policy = Scheduler.Policy()) -> Scheduler {
        var n = 0
        return Scheduler(policy: policy, makeToken: { n += 1; return "L\(n)" })
    }

    func tasks(_ ids: [String], deps: [String: [String]] = [:], priority: [String: Int] = [:]) -> [Scheduler.Task] {
        ids.enumerated().map { Scheduler.Task(id: $0.element, kind: "k", priority: priority[$0.element] ?? 0, sequence: $0.offset, dependencies: deps[$0.element] ?? []) }
    }

    func assigns(_ d: [D]) -> [(task: String, worker: String, lease: String)] {
        d.compactMap { if case let .assign(t, w, l, _) = $0 { return (t, w, l) }; return nil }
    }

    func testPriorityThenSubmissionOrderAndDependencies() {
        var s = makeScheduler()
        _ = s.handle(.submitted(tasks(["A", "B", "C", "D"], deps: ["C": ["A", "B"], "D": ["C"]], priority: ["B": 5, "C": 1, "D": 10])), now: 0)
        _ = s.handle(.workerJoined(worker: "w", slots: 1, running: []), now: 0)
        var order: [String] = []
        for _ in 0..<4 {
            let a = assigns(s.dispatch(now: 0))
            XCTAssertEqual(a.count, 1)
            order.append(a[0].task)
            _ = s.handle(.done(lease: a[0].lease, worker: "w"), now: 1)
        }
        XCTAssertEqual(order, ["B", "A", "C", "D"])
        XCTAssertFalse(s.hasWork)
    }

    func testCacheLocalityPicksTheWorkerHoldingMostInputBytes() {
        var s = makeScheduler()
        _ = s.handle(.submitted(tasks(["T"])), now: 0)
        _ = s.handle(.workerJoined(worker: "a", slots: 1, running: []), now: 0)
        _ = s.handle(.workerJoined(worker: "b", slots: 1, running: []), now: 0)
        let held = ["a": "small", "b": "big"]
        let a = assigns(s.dispatch(now: 0, inputs: { _ in ["small": 10, "big": 1000] }, caches: { held[$0] == $1 }))
        XCTAssertEqual(a.first?.worker, "b")
    }

    /// A worker whose own disk is full fails every task: the tasks do not pay, the worker is
    /// quarantined, and the healthy worker finishes everything.
    func testResourceFailuresQuarantineTheWorkerAndSpareTheTasks() {
        var s = makeScheduler()
        _ = s.handle(.submitted(tasks((0..<10).map { "t\($0)" })), now: 0)
        _ = s.handle(.workerJoined(worker: "bad", slots: 1, running: []), now: 0)
        _ = s.handle(.workerJoined(worker: "good", slots: 1, running: []), now: 0)
        var quarantined: [String] = [], failed: [String] = [], done = 0
        var now = 0.0
        while s.hasWork && now < 100 {
            now += 1
            for a in assigns(s.dispatch(now: now)) {
                let d: [D]
                if a.worker == "bad" {
                    d = s.handle(.failed(lease: a.lease, worker: "bad", blame: .workerResource, error: "No space left on device: /cache/x"), now: now)
                } else {
                    d = s.handle(.done(lease: a.lease, worker: "good"), now: now); done += 1
                }
                for x in d {
                    if case let .quarantined(w, _, _) = x { quarantined.append(w) }
                    if case let .failed(t, _, _) = x { failed.append(t) }
                }
            }
        }
        XCTAssertEqual(done, 10)
        XCTAssertEqual(failed, [])
        XCTAssertEqual(quarantined, ["bad"])
        XCTAssertNotNil(s.quarantined["bad"])
    }

    /// Counted task failures on a worker that then gets quarantined are taken back.
    func testQuarantineForgivesTheWorkersTaskFailures() {
        var p = Scheduler.Policy(); p.maxAttempts = 2
        var s = makeScheduler(p)
        _ = s.handle(.submitted(tasks(["a", "b", "c", "d"])), now: 0)
        _ = s.handle(.workerJoined(worker: "bad", slots: 4, running: []), now: 0)
        let first = assigns(s.dispatch(now: 0))
        XCTAssertEqual(first.count, 4)
        _ = s.handle(.workerJoined(worker: "good", slots: 1, running: []), now: 0)
        var all: [D] = []
        for a in first.prefix(3) { all += s.handle(.failed(lease: a.lease, worker: "bad", blame: .task, error: "boom"), now: 1) }
        XCTAssertTrue(all.contains(.forgiven(task: "a", worker: "bad", failures: 1)))
        XCTAssertTrue(all.contains { if case .quarantined("bad", 31, _) = $0 { return true }; return false })
        XCTAssertEqual(s.task("a")?.failures, 0)
        // Quarantined: no work for it until released, then the back-off doubles next time.
        _ = s.handle(.done(lease: first[3].lease, worker: "bad"), now: 1)
        XCTAssertEqual(Set(assigns(s.dispatch(now: 2)).map(\.worker)), ["good"])
        XCTAssertEqual(s.handle(.tick, now: 40), [.released(worker: "bad")])
    }

    /// BYE, reconnect eviction, busy, dismissal and an undelivered lease count against nobody.
    func testLeavingAndBusyDoNotCount() {
        var s = makeScheduler()
        _ = s.handle(.submitted(tasks(["t"])), now: 0)
        for reason in [Scheduler.LeaveReason.bye, .evicted, .dismissed, .unreachable] {
            _ = s.handle(.workerJoined(worker: "w", slots: 1, running: []), now: 0)
            let a = assigns(s.dispatch(now: 0))
            XCTAssertEqual(a.count, 1)
            let d = s.handle(.workerLeft(worker: "w", reason: reason, detail: "\(reason)"), now: 1)
            XCTAssertTrue(d.contains { if case .leaseEnded(_, _, _, .lost, false, _) = $0 { return true }; return false }, "\(reason): \(d)")
        }
        _ = s.handle(.workerJoined(worker: "w", slots: 1, running: []), now: 0)
        let a = assigns(s.dispatch(now: 0))[0]
        _ = s.handle(.busy(lease: a.lease, worker: "w"), now: 1)
        XCTAssertEqual(s.task("t")?.failures, 0)
        XCTAssertEqual(s.task("t")?.phase, .pending)
        // A reconnect that still runs the lease keeps it; one that does not ends it, uncounted.
        let b = assigns(s.dispatch(now: 2))[0]
        _ = s.handle(.workerJoined(worker: "w", slots: 1, running: [b.lease]), now: 3)
        XCTAssertEqual(s.lease(b.lease)?.worker, "w")
        _ = s.handle(.workerJoined(worker: "w", slots: 1, running: []), now: 4)
        XCTAssertNil(s.lease(b.lease))
        XCTAssertEqual(s.task("t")?.failures, 0)
    }

    /// A silent worker is the worker's fault; it counts against the task only when it happens
    /// to the same task on a second worker.
    func testSilentWorkerCountsAgainstTheTaskOnlyOnASecondWorker() {
        var s = makeScheduler()
        _ = s.handle(.submitted(tasks(["t"])), now: 0)
        _ = s.handle(.workerJoined(worker: "a", slots: 1, running: []), now: 0)
        _ = assigns(s.dispatch(now: 0))
        _ = s.handle(.workerLeft(worker: "a", reason: .silent, detail: "silent"), now: 1)
        XCTAssertEqual(s.task("t")?.failures, 0)
        _ = s.handle(.workerJoined(worker: "b", slots: 1, running: []), now: 1)
        _ = assigns(s.dispatch(now: 1))
        _ = s.handle(.workerLeft(worker: "b", reason: .silent, detail: "silent"), now: 2)
        XCTAssertEqual(s.task("t")?.failures, 1)
    }

    /// A coordinator refusal is forgiven, but the total lease cap still ends the bouncing.
    func testLeaseCapStopsEndlessBouncing() {
        var s = makeScheduler()
        _ = s.handle(.submitted(tasks(["t"])), now: 0)
        _ = s.handle(.workerJoined(worker: "w", slots: 1, running: []), now: 0)
        var leases = 0, failure: String?
        while failure == nil && leases < 100 {
            guard let a = assigns(s.dispatch(now: 0)).first else { break }
            leases += 1
            for d in s.handle(.failed(lease: a.lease, worker: "w", blame: .coordinatorRefusal, error: "refused"), now: 0) {
                if case let .failed(_, r, _) = d { failure = r }
            }
        }
        XCTAssertEqual(leases, 12)
        XCTAssertEqual(s.task("t")?.failures, 0)
        XCTAssertTrue(failure?.contains("gave up after 12 leases") == true, failure ?? "")
    }

    /// maxAttempts counted failures fail a task only once two distinct workers failed it (when
    /// two are connected); the task is not handed back to the worker it just failed on.
    func testFailureNeedsTwoDistinctWorkersAndAvoidsTheLastOne() {
        var s = makeScheduler()
        _ = s.handle(.submitted(tasks(["bad", "x", "y", "z"])), now: 0)
        _ = s.handle(.workerJoined(worker: "a", slots: 1, running: []), now: 0)
        _ = s.handle(.workerJoined(worker: "b", slots: 1, running: []), now: 0)
        var ran: [(String, String)] = []
        var failed: [String] = []
        var t = 0.0
        while s.hasWork && t < 50 {
            t += 1
            for a in assigns(s.dispatch(now: t)) {
                ran.append((a.task, a.worker))
                let d = a.task == "bad" ? s.handle(.failed(lease: a.lease, worker: a.worker, blame: .task, error: "boom"), now: t)
                    : s.handle(.done(lease: a.lease, worker: a.worker), now: t)
                for x in d { if case let .failed(id, _, _) = x { failed.append(id) } }
            }
        }
        let bad = ran.filter { $0.0 == "bad" }.map(\.1)
        XCTAssertEqual(bad.count, 3)
        XCTAssertEqual(bad[0] == bad[1], false, "not straight back to the worker it failed on: \(bad)")
        XCTAssertEqual(failed, ["bad"])
        XCTAssertEqual(s.task("bad")?.failures, 3)
    }

    /// While the other worker is busy the task may go back to the one it failed on, but its
    /// deciding attempt waits for the other worker.
    func testDecidingAttemptWaitsForAnotherWorker() {
        var s = makeScheduler()
        _ = s.handle(.submitted(tasks(["long", "bad", "x"])), now: 0)
        _ = s.handle(.workerJoined(worker: "b", slots: 1, running: []), now: 0)
        let long = assigns(s.dispatch(now: 0))[0]
        XCTAssertEqual(long.task, "long")
        _ = s.handle(.workerJoined(worker: "a", slots: 1, running: []), now: 0)
        for attempt in 1...2 {
            let a = assigns(s.dispatch(now: Double(attempt)))
            XCTAssertEqual(a.map(\.task), ["bad"]); XCTAssertEqual(a.first?.worker, "a")
            _ = s.handle(.failed(lease: a[0].lease, worker: "a", blame: .task, error: "boom"), now: Double(attempt))
        }
        // Third (deciding) attempt: not on "a" again; "a" takes the next task instead.
        XCTAssertEqual(assigns(s.dispatch(now: 3)).map(\.task), ["x"])
        _ = s.handle(.done(lease: long.lease, worker: "b"), now: 4)
        let third = assigns(s.dispatch(now: 4))
        XCTAssertEqual(third.map(\.task), ["bad"]); XCTAssertEqual(third.first?.worker, "b")
    }

    func testFailureBlocksDependentsAndRetryUnblocks() {
        var p = Scheduler.Policy(); p.maxAttempts = 1
        var s = makeScheduler(p)
        _ = s.handle(.submitted(tasks(["a", "b", "c"], deps: ["b": ["a"], "c": ["b"]])), now: 0)
        _ = s.handle(.workerJoined(worker: "w", slots: 1, running: []), now: 0)
        let a = assigns(s.dispatch(now: 0))[0]
        let d = s.handle(.failed(lease: a.lease, worker: "w", blame: .task, error: "boom"), now: 1)
        XCTAssertTrue(d.contains(.blocked(["b", "c"])), "\(d)")
        let r = s.handle(.retry(tasks: ["a"]), now: 2)
        XCTAssertEqual(r, [.reset(task: "a", reason: "retry requested"), .unblocked(["b", "c"])])
        XCTAssertEqual(s.handle(.retry(tasks: ["b"]), now: 2), [.rejected("task b is pending; only failed tasks can be retried")])
    }

    /// Past its deadline a lease ends as timed out (counted), the task is requeued, the worker
    /// told to cancel, and its slot stays taken until the runner reports.
    func testDeadlineCancelsAndRequeues() {
        var p = Scheduler.Policy(); p.deadlineFloor = 10; p.deadlineFactor = 2
        var s = makeScheduler(p)
        var t = tasks(["slow", "next"]); t[0].expectedSeconds = 20
        _ = s.handle(.submitted(t), now: 0)
        _ = s.handle(.workerJoined(worker: "w", slots: 1, running: []), now: 0)
        let a = assigns(s.dispatch(now: 0))[0]
        XCTAssertEqual(s.deadline(of: "slow"), 40)
        XCTAssertEqual(s.handle(.tick, now: 39), [])
        let d = s.handle(.tick, now: 41)
        XCTAssertEqual(d.first, .cancel(lease: a.lease, worker: "w"))
        XCTAssertTrue(d.contains { if case .leaseEnded("slow", _, "w", .timedOut, true, _) = $0 { return true }; return false })
        XCTAssertTrue(d.contains(.requeued(task: "slow")))
        XCTAssertEqual(s.freeSlots("w"), 0)
        XCTAssertTrue(assigns(s.dispatch(now: 41)).isEmpty)
        _ = s.handle(.staleResult(lease: a.lease, worker: "w"), now: 42)
        XCTAssertEqual(assigns(s.dispatch(now: 42)).count, 1)
        // A slower completed lease of the kind (e.g. from the ledger) stretches the deadline.
        s.noteCompleted(kind: "k", seconds: 30)
        XCTAssertEqual(s.deadline(of: "slow"), 60)
    }

    func testInvalidateRerunsTheTaskAndOptionallyItsDependents() {
        var s = makeScheduler()
        _ = s.handle(.submitted(tasks(["a", "b"], deps: ["b": ["a"]])), now: 0)
        _ = s.handle(.workerJoined(worker: "w", slots: 1, running: []), now: 0)
        for _ in 0..<2 { let a = assigns(s.dispatch(now: 0))[0]; _ = s.handle(.done(lease: a.lease, worker: "w"), now: 0) }
        XCTAssertEqual(s.handle(.invalidate(task: "a", withDependents: false, reason: "corrupt"), now: 1), [.reset(task: "a", reason: "corrupt")])
        XCTAssertEqual(s.task("b")?.phase, .done)
        let a = assigns(s.dispatch(now: 1))[0]
        _ = s.handle(.done(lease: a.lease, worker: "w"), now: 1)
        let d = s.handle(.invalidate(task: "a", withDependents: true, reason: "asked"), now: 2)
        XCTAssertEqual(d, [.reset(task: "a", reason: "asked"), .reset(task: "b", reason: "an input task was invalidated: asked")])
        XCTAssertEqual(assigns(s.dispatch(now: 2)).map(\.task), ["a"])
        XCTAssertEqual(s.handle(.invalidate(task: "b", withDependents: false, reason: ""), now: 2), [.rejected("task b is pending; only done tasks can be invalidated")])
    }

    func testAbortedAndUnrecordedLeasesAreUndoneWithoutCounting() {
        var s = makeScheduler()
        _ = s.handle(.submitted(tasks(["t"])), now: 0)
        _ = s.handle(.workerJoined(worker: "w", slots: 1, running: []), now: 0)
        let a = assigns(s.dispatch(now: 0))[0]
        _ = s.handle(.leasesAborted([a.lease]), now: 0)
        XCTAssertEqual(s.task("t")?.phase, .pending)
        XCTAssertEqual(s.task("t")?.leases, 0)
        XCTAssertNil(s.task("t")?.lease)
        let b = assigns(s.dispatch(now: 0))[0]
        _ = s.handle(.done(lease: b.lease, worker: "w"), now: 1)
        _ = s.handle(.doneNotRecorded(lease: b.lease, worker: "w", error: "disk full"), now: 1)
        XCTAssertEqual(s.task("t")?.phase, .pending)
        XCTAssertEqual(s.task("t")?.failures, 0)
    }
}

@testable import Cluster
import Foundation
import XCTest

final class SchedulingTests: XCTestCase {
    func testPriorityAndDependencyOrderWithOneWorker() throws {
        let dir = tempDir("prio")
        let c = try Coordinator(runDirectory: dir, bind: "ipc://\(dir.path)/c.sock", options: coordinatorOptions())
        // Ready at first: A (0), B (5). C needs A and B; D needs C. One worker → B, A, C, D.
        try c.submit([
            TaskDescriptor(id: "A", kind: "fake", label: "A", spec: spec(FakeSpec()), priority: 0),
            TaskDescriptor(id: "B", kind: "fake", label: "B", spec: spec(FakeSpec()), priority: 5),
            TaskDescriptor(id: "C", kind: "fake", label: "C", spec: spec(FakeSpec()), dependencies: ["A", "B"], priority: 1),
            TaskDescriptor(id: "D", kind: "fake", label: "D", spec: spec(FakeSpec()), dependencies: ["C"], priority: 10),
        ])
        let log = ExecLog()
        let (_, ended) = startWorker(c.endpoint, workerOptions(dir, "w1"), runner: fakeRunner(name: "w1", log: log))
        let st = try runBounded(c)
        XCTAssertEqual(st.done, 4)
        XCTAssertEqual(log.snapshot.map(\.task), ["B", "A", "C", "D"])
        XCTAssertEqual(ended.wait(timeout: .now() + 5), .success, "worker leaves on BYE")
        XCTAssertEqual(try c.ledger.task("D")?.result.map { String(decoding: $0, as: UTF8.self) }, "ok D")
    }

    func testManyWorkersAllDoneOnceDependenciesRespected() throws {
        let dir = tempDir("many")
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: coordinatorOptions())
        var tasks: [TaskDescriptor] = []
        for i in 0..<12 { tasks.append(TaskDescriptor(id: "t\(i)", kind: "fake", label: "t\(i)", spec: spec(FakeSpec(sleepMs: 30)))) }
        tasks.append(TaskDescriptor(id: "join", kind: "fake", label: "join", spec: spec(FakeSpec()), dependencies: tasks.map(\.id)))
        try c.submit(tasks)
        try c.submit(tasks)  // idempotent
        let log = ExecLog()
        for i in 0..<3 { startWorker(c.endpoint, workerOptions(dir, "w\(i)"), runner: fakeRunner(name: "w\(i)", log: log)) }
        let st = try runBounded(c)
        XCTAssertEqual(st.done, 13)
        let e = log.snapshot
        XCTAssertEqual(e.count, 13, "each task ran exactly once")
        XCTAssertEqual(Set(e.map(\.task)).count, 13)
        let join = try XCTUnwrap(e.first { $0.task == "join" })
        for x in e where x.task != "join" { XCTAssertLessThanOrEqual(x.end, join.start) }
        XCTAssertGreaterThan(Set(e.map(\.worker)).count, 1, "work was spread over workers")
        XCTAssertEqual(try c.ledger.timeline().filter { $0.outcome == .done }.count, 13)
    }

    func testRetryLimitFailsTaskAndBlocksDependents() throws {
        let dir = tempDir("retry")
        var o = coordinatorOptions()
        o.maxAttempts = 3
        let c = try Coordinator(runDirectory: dir, bind: "ipc://\(dir.path)/c.sock", options: o)
        try c.submit([
            TaskDescriptor(id: "bad", kind: "fake", label: "bad", spec: spec(FakeSpec(failAttempts: 99))),
            TaskDescriptor(id: "child", kind: "fake", label: "child", spec: spec(FakeSpec()), dependencies: ["bad"]),
            TaskDescriptor(id: "grandchild", kind: "fake", label: "gc", spec: spec(FakeSpec()), dependencies: ["child"]),
            TaskDescriptor(id: "flaky", kind: "fake", label: "flaky", spec: spec(FakeSpec(failAttempts: 1))),
            TaskDescriptor(id: "fine", kind: "fake", label: "fine", spec: spec(FakeSpec())),
        ])
        let log = ExecLog()
        for i in 0..<2 { startWorker(c.endpoint, workerOptions(dir, "w\(i)"), runner: fakeRunner(name: "w\(i)", log: log)) }
        let st = try runBounded(c)
        XCTAssertEqual(st.done, 2); XCTAssertEqual(st.failed, 1); XCTAssertEqual(st.blocked, 2); XCTAssertTrue(st.finished)
        let bad = try XCTUnwrap(c.ledger.task("bad"))
        XCTAssertEqual(bad.state, .failed); XCTAssertEqual(bad.attempts, 3)
        XCTAssertEqual(bad.lastError, "transfer: simulated failure on attempt 3")
        XCTAssertEqual(try c.ledger.task("flaky")?.attempts, 2)
        XCTAssertEqual(log.snapshot.filter { $0.task == "bad" }.count, 3)
        XCTAssertFalse(log.snapshot.contains { $0.task == "child" })
        // Retry on demand puts the failed task and what it blocked back to pending.
        try c.retry(taskID: "bad")
        XCTAssertEqual(c.status().pending, 3)
        XCTAssertEqual(try c.ledger.task("grandchild")?.state, .pending)
        XCTAssertThrowsError(try c.retry(taskID: "fine"))
    }

    func testSubmitRejectsBadGraphs() throws {
        let dir = tempDir("graph")
        let c = try Coordinator(runDirectory: dir, bind: "ipc://\(dir.path)/c.sock", options: coordinatorOptions())
        XCTAssertThrowsError(try c.submit([TaskDescriptor(id: "x", kind: "k", label: "x", spec: Data(), dependencies: ["nope"])]))
        XCTAssertThrowsError(try c.submit([TaskDescriptor(id: "x", kind: "k", label: "x", spec: Data(), dependencies: ["y"]),
                                           TaskDescriptor(id: "y", kind: "k", label: "y", spec: Data(), dependencies: ["x"])]))
        XCTAssertThrowsError(try c.submit([TaskDescriptor(id: "x", kind: "k", label: "x", spec: Data(), inputs: ["../etc": .hash(String(repeating: "a", count: 64))])]))
        XCTAssertThrowsError(try c.submit([TaskDescriptor(id: "x", kind: "k", label: "x", spec: Data(), inputs: ["w": .hash(String(repeating: "a", count: 64))])]))
        XCTAssertEqual(try c.ledger.tasks().count, 0)
        XCTAssertThrowsError(try Coordinator(runDirectory: dir, bind: "tcp://*:0", options: coordinatorOptions()))
    }
}

@testable import Cluster
import Foundation
import TestSupport
import XCTest

/// Failure accounting with the real coordinator: who is to blame for a lease that ended
/// without a result (the Scheduler's rules, see docs/ARCHITECTURE.md "Scheduler").
final class FailureAccountingTests: XCTestCase {
    /// A coordinator serving one fake task "T" in the background, and a raw peer that joined.
    func serveOneTask(_ tag: String, peer: String) throws -> (URL, Coordinator, RawPeer, () -> Void) {
        let dir = tempDir(tag)
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: coordinatorOptions())
        try c.submit([TaskDescriptor(id: "T", kind: "fake", label: "T", spec: spec(FakeSpec()))])
        let ended = runInBackground(c)
        let p = try RawPeer(c.endpoint, id: "\(peer)#1")
        try p.ready(peer)
        return (dir, c, p, { c.stop(); _ = ended.wait(timeout: .now() + 5) })
    }

    /// A worker whose cache disk is full fails every task it gets; next to a healthy worker it
    /// is quarantined, and no task fails or is blocked because of it.
    func testDiskFullWorkerIsQuarantinedAndNoTaskFails() throws {
        let dir = tempDir("diskfull-worker")
        let c = try Coordinator(runDirectory: dir, bind: "ipc://\(dir.path)/c.sock", options: coordinatorOptions())
        var tasks: [TaskDescriptor] = []
        for i in 0..<12 { tasks.append(TaskDescriptor(id: "t\(i)", kind: "fake", label: "t\(i)", spec: spec(FakeSpec(sleepMs: 20)))) }
        tasks.append(TaskDescriptor(id: "join", kind: "fake", label: "join", spec: spec(FakeSpec()), dependencies: tasks.map(\.id)))
        try c.submit(tasks)
        let log = ExecLog()
        let bad: Worker.Runner = { a, _ in
            log.add(a.taskID, a.attempt, "bad", 0, 0)
            throw ClusterError.io(path: "/cache/ab/abcdef", reason: String(cString: strerror(ENOSPC)))
        }
        startWorker(c.endpoint, workerOptions(dir, "bad"), runner: bad)
        startWorker(c.endpoint, workerOptions(dir, "good"), runner: fakeRunner(name: "good", log: log))
        let st = try runBounded(c)
        XCTAssertEqual(st.done, 13); XCTAssertEqual(st.failed, 0); XCTAssertEqual(st.blocked, 0)
        XCTAssertGreaterThan(log.snapshot.filter { $0.worker == "bad" }.count, 0, "the bad worker did get work")
        XCTAssertLessThanOrEqual(log.snapshot.filter { $0.worker == "bad" }.count, 3, "quarantined after 3 distinct failed tasks")
        let q = try c.ledger.events(kind: "worker-quarantined")
        XCTAssertEqual(q.map(\.worker), ["bad"])
        XCTAssertEqual(c.status().quarantined?.keys.sorted(), ["bad"])
        for t in try c.ledger.tasks() { XCTAssertEqual(t.failures, 0, t.id) }
    }

    /// A graceful BYE mid-task (a scale-down) does not count against the task.
    func testByeMidTaskDoesNotCount() throws {
        let (dir, c, leaving, stop) = try serveOneTask("bye", peer: "leaving")
        defer { stop() }
        XCTAssertNotNil(try leaving.expect(.assign))
        try leaving.send(WireMessage(.bye, ReasonHeader(reason: "scale-down")))
        let log = ExecLog()
        let (w, _) = startWorker(c.endpoint, workerOptions(dir, "real"), runner: fakeRunner(name: "real", log: log))
        defer { w.stop() }
        XCTAssertTrue(waitUntil(10) { (try? c.ledger.task("T")?.state) == .done })
        let t = try XCTUnwrap(c.ledger.task("T"))
        XCTAssertEqual(t.failures, 0)
        XCTAssertEqual(t.attempts, 2)
        XCTAssertEqual(try c.ledger.timeline().map(\.outcome), [.lost, .done])
    }

    /// The coordinator decides whether it refused an upload for space; a FAIL that merely says
    /// so is a task failure like any other.
    func testNoSpaceTextFromAWorkerCountsWithoutARefusal() throws {
        let (_, c, liar, stop) = try serveOneTask("marker", peer: "liar")
        defer { stop() }
        let a = try XCTUnwrap(try liar.expect(.assign)).decode(AssignHeader.self)
        try liar.send(WireMessage(.fail, FailHeader(leaseToken: a.leaseToken, error: "upload refused: \(Coordinator.noSpaceMarker)")))
        XCTAssertTrue(waitUntil(5) { (try? c.ledger.task("T")?.failures) == 1 })
        XCTAssertEqual(try c.ledger.timeline().first?.outcome, .failed)
    }

    /// "worker busy" counts against nobody, but a task cannot bounce for ever: after
    /// 4 × maxAttempts leases it fails, saying why.
    func testBusyBouncingStopsAtTheLeaseCap() throws {
        let (_, c, busy, stop) = try serveOneTask("busy-cap", peer: "busy")
        defer { stop() }
        var leases = 0
        while leases < 20, let m = try busy.expect(.assign, timeout: 2) {
            leases += 1
            try busy.send(WireMessage(.fail, FailHeader(leaseToken: try m.decode(AssignHeader.self).leaseToken, error: "worker busy")))
        }
        XCTAssertEqual(leases, 12)
        XCTAssertTrue(waitUntil(5) { (try? c.ledger.task("T")?.state) == .failed })
        let t = try XCTUnwrap(c.ledger.task("T"))
        XCTAssertEqual(t.failures, 0)
        XCTAssertTrue(t.lastError?.hasPrefix("gave up after 12 leases without a result") == true, t.lastError ?? "")
    }

    /// A task that hangs while its worker heartbeats is cancelled at its deadline, counted as
    /// timed out, and runs again; the worker's slot frees when the runner ends.
    func testHangingTaskPastItsDeadlineIsCancelledAndRequeued() throws {
        let dir = tempDir("deadline")
        var o = coordinatorOptions()
        o.taskDeadlineFloor = 0.5
        let c = try Coordinator(runDirectory: dir, bind: "ipc://\(dir.path)/c.sock", options: o)
        try c.submit([TaskDescriptor(id: "hang", kind: "fake", label: "hang", spec: spec(FakeSpec(hangAttempts: 1)))])
        let log = ExecLog()
        startWorker(c.endpoint, workerOptions(dir, "w"), runner: fakeRunner(name: "w", log: log))
        let st = try runBounded(c, timeout: 15)
        XCTAssertEqual(st.done, 1)
        let t = try XCTUnwrap(c.ledger.task("hang"))
        XCTAssertEqual(t.attempts, 2); XCTAssertEqual(t.failures, 1)
        XCTAssertEqual(try c.ledger.timeline().map(\.outcome), [.timedOut, .done])
        XCTAssertEqual(log.snapshot.map(\.attempt), [1, 2], "the first runner ended (cancelled) before the second ran")
        XCTAssertEqual(try c.ledger.events(kind: "timed-out").count, 1)
    }
}

/// The control path (ledger requests, the run-directory lock) and stored-artifact checks.
final class ControlAndArtifactTests: XCTestCase {
    /// `seafold retry` writes a request; the live coordinator applies it (by id prefix).
    func testRetryRequestReachesTheLiveCoordinator() throws {
        let dir = tempDir("request")
        var o = coordinatorOptions()
        o.maxAttempts = 1
        let c = try Coordinator(runDirectory: dir, bind: "ipc://\(dir.path)/c.sock", options: o)
        try c.submit([TaskDescriptor(id: "flaky-0123456789", kind: "fake", label: "flaky", spec: spec(FakeSpec(failAttempts: 1))),
                      TaskDescriptor(id: "child", kind: "fake", label: "child", spec: spec(FakeSpec()), dependencies: ["flaky-0123456789"])])
        XCTAssertTrue(RunLock.isHeld(runDirectory: dir))
        XCTAssertThrowsError(try Coordinator(runDirectory: dir, bind: "ipc://\(dir.path)/c2.sock", options: o)) { e in
            XCTAssertTrue("\(e)".contains("coordinator.lock"), "\(e)")
        }
        let ended = runInBackground(c)
        defer { c.stop(); _ = ended.wait(timeout: .now() + 5) }
        let log = ExecLog()
        let (w, _) = startWorker(c.endpoint, workerOptions(dir, "w"), runner: fakeRunner(name: "w", log: log))
        defer { w.stop() }
        XCTAssertTrue(waitUntil(10) { (try? c.ledger.task("child")?.state) == .blocked })
        // Another process's view: a second Ledger on the same file, as the CLI has.
        let cli = try Ledger(runDirectory: dir)
        let id = try cli.addRequest(kind: "retry", task: try cli.resolveTaskID("flaky-01"))
        XCTAssertTrue(waitUntil(10) { (try? c.ledger.task("child")?.state) == .done })
        XCTAssertEqual(try cli.request(id)?.outcome, "applied: retry flaky-0123456789")
        let bad = try cli.addRequest(kind: "retry", task: "child")
        XCTAssertTrue(waitUntil(5) { (try? cli.request(bad)?.appliedAt) != nil })
        XCTAssertEqual(try cli.request(bad)?.outcome?.hasPrefix("rejected"), true)
        // Invalidating a done task with its dependents runs both again.
        let runs = log.snapshot.count
        let inv = try cli.addRequest(kind: "invalidate", task: "flaky", withDependents: true)
        XCTAssertTrue(waitUntil(10) { log.snapshot.count == runs + 2 && (try? c.ledger.task("child")?.state) == .done })
        XCTAssertEqual(try cli.request(inv)?.outcome, "applied: invalidate flaky-0123456789")
        XCTAssertEqual(log.snapshot.suffix(2).map(\.task), ["flaky-0123456789", "child"])
    }

    /// A stored output found corrupt when a worker first fetches it: the producer runs again,
    /// the fetching lease ends without counting, and the reader gets the new bytes.
    func testCorruptOutputFoundWhenServedMakesItsProducerRunAgain() throws {
        let dir = tempDir("corrupt-fetch")
        let c = try Coordinator(runDirectory: dir, bind: "ipc://\(dir.path)/c.sock", options: coordinatorOptions())
        try c.submit([TaskDescriptor(id: "P", kind: "fake", label: "P", spec: spec(FakeSpec(outputBytes: 4000)))])
        let ended = runInBackground(c)
        defer { c.stop(); _ = ended.wait(timeout: .now() + 5) }
        let log = ExecLog()
        let (w1, gone) = startWorker(c.endpoint, workerOptions(dir, "w1"), runner: fakeRunner(name: "w1", log: log))
        XCTAssertTrue(waitUntil(10) { (try? c.ledger.task("P")?.state) == .done })
        w1.stop(); _ = gone.wait(timeout: .now() + 5)
        let first = try XCTUnwrap(c.ledger.task("P")?.artifacts["out.bin"])
        let f = try c.store.path(for: first)
        chmod(f.path, 0o600)
        try Data(repeating: 7, count: 4000).write(to: f)
        try c.submit([TaskDescriptor(id: "C", kind: "fake", label: "C", spec: spec(FakeSpec(inputNames: ["x"])), dependencies: ["P"],
                                     inputs: ["x": .output(task: "P", name: "out.bin")])])
        let (w2, _) = startWorker(c.endpoint, workerOptions(dir, "w2"), runner: fakeRunner(name: "w2", log: log))
        defer { w2.stop() }
        XCTAssertTrue(waitUntil(10) { (try? c.ledger.task("C")?.state) == .done })
        XCTAssertEqual(log.snapshot.filter { $0.task == "P" }.count, 2)
        let second = try XCTUnwrap(c.ledger.task("P")?.artifacts["out.bin"])
        XCTAssertNotEqual(second, first)
        XCTAssertEqual(String(decoding: try XCTUnwrap(c.ledger.task("C")?.result), as: UTF8.self), "ok C\nx:\(second)")
        XCTAssertEqual(try c.ledger.task("C")?.failures, 0)
        XCTAssertEqual(try c.ledger.task("P")?.failures, 0)
    }

    /// A corrupt imported input found at start is named (with what to do) and removed, so that
    /// importing the file again restores it.
    func testCorruptImportedInputIsNamedAndCanBeImportedAgain() throws {
        let dir = tempDir("corrupt-import")
        let bind = "ipc://\(dir.path)/c.sock"
        let weights = dir.appendingPathComponent("user-weights.safetensors")
        try randomBytes(3000).write(to: weights)
        var h = ""
        do {
            let c = try Coordinator(runDirectory: dir, bind: bind, options: coordinatorOptions())
            h = try c.importArtifact(weights)
            try c.submit([TaskDescriptor(id: "T", kind: "fake", label: "T", spec: spec(FakeSpec(inputNames: ["w"])), inputs: ["w": .hash(h)])])
            let f = try c.store.path(for: h)
            chmod(f.path, 0o600)
            try Data(repeating: 1, count: 3000).write(to: f)
        }
        let c2 = try Coordinator(runDirectory: dir, bind: bind, options: coordinatorOptions())
        let e = try XCTUnwrap(c2.ledger.events(kind: "artifact-corrupt").first)
        XCTAssertTrue(e.detail.contains("user-weights.safetensors") && e.detail.contains("re-run"), e.detail)
        XCTAssertFalse(c2.store.contains(h))
        XCTAssertEqual(try c2.importArtifact(weights), h)
        startWorker(c2.endpoint, workerOptions(dir, "w"), runner: fakeRunner(name: "w", log: ExecLog()))
        XCTAssertEqual(try runBounded(c2).done, 1)
    }

    /// Retrying a task whose checkpoint no longer verifies drops the checkpoint.
    func testRetryDropsACorruptCheckpoint() throws {
        let dir = tempDir("corrupt-cp")
        var o = coordinatorOptions()
        o.maxAttempts = 1
        let c = try Coordinator(runDirectory: dir, bind: "ipc://\(dir.path)/c.sock", options: o)
        try c.submit([TaskDescriptor(id: "cp-task", kind: "fake", label: "cp", spec: spec(FakeSpec(checkpointText: "state")))])
        startWorker(c.endpoint, workerOptions(dir, "w"), runner: fakeRunner(name: "w", log: ExecLog()))
        XCTAssertEqual(try runBounded(c).failed, 1)
        let cp = try XCTUnwrap(c.ledger.task("cp-task")?.checkpoint)
        let f = try c.store.path(for: cp)
        chmod(f.path, 0o600)
        try Data("garbage".utf8).write(to: f)
        try c.retry(taskID: "cp-")
        XCTAssertNil(try c.ledger.task("cp-task")?.checkpoint)
        XCTAssertEqual(try c.ledger.task("cp-task")?.state, .pending)
        XCTAssertEqual(try c.ledger.events(kind: "checkpoint-dropped").count, 1)
    }

    /// A stored output corrupted on disk is found when the coordinator starts again: its
    /// producer runs again before the task that reads it.
    func testCorruptStoredOutputMakesItsProducerRunAgain() throws {
        let dir = tempDir("corrupt-store")
        let bind = "ipc://\(dir.path)/c.sock"
        let log = ExecLog()
        var first = ""
        do {
            let c = try Coordinator(runDirectory: dir, bind: bind, options: coordinatorOptions())
            try c.submit([TaskDescriptor(id: "P", kind: "fake", label: "P", spec: spec(FakeSpec(outputBytes: 4000)))])
            startWorker(c.endpoint, workerOptions(dir, "w1"), runner: fakeRunner(name: "w1", log: log))
            XCTAssertEqual(try runBounded(c).done, 1)
            first = try XCTUnwrap(c.ledger.task("P")?.artifacts["out.bin"])
            let f = try c.store.path(for: first)
            chmod(f.path, 0o600)
            try Data(repeating: 7, count: 4000).write(to: f)
        }
        let c2 = try Coordinator(runDirectory: dir, bind: bind, options: coordinatorOptions())
        XCTAssertEqual(try c2.ledger.task("P")?.state, .pending)
        XCTAssertEqual(try c2.ledger.events(kind: "artifact-corrupt").count, 1)
        try c2.submit([TaskDescriptor(id: "P", kind: "fake", label: "P", spec: spec(FakeSpec(outputBytes: 4000))),
                       TaskDescriptor(id: "C", kind: "fake", label: "C", spec: spec(FakeSpec(inputNames: ["x"])), dependencies: ["P"],
                                      inputs: ["x": .output(task: "P", name: "out.bin")])])
        startWorker(c2.endpoint, workerOptions(dir, "w2"), runner: fakeRunner(name: "w2", log: log))
        XCTAssertEqual(try runBounded(c2).done, 2)
        XCTAssertEqual(log.snapshot.map(\.task), ["P", "P", "C"])
        let second = try XCTUnwrap(c2.ledger.task("P")?.artifacts["out.bin"])
        XCTAssertNotEqual(second, first)
        XCTAssertEqual(String(decoding: try XCTUnwrap(c2.ledger.task("C")?.result), as: UTF8.self), "ok C\nx:\(second)")
    }
}

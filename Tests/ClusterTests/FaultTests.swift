@testable import Cluster
import CZeroMQ
import Foundation
import TestSupport
import XCTest

final class FaultTests: XCTestCase {
    func testSilentWorkerLeaseExpiresTaskRerunsAndLateResultIsStale() throws {
        let dir = tempDir("lease")
        // The harness's 0.25 s heartbeats (0.75 s liveness): the exact attempt count below
        // depends on only the silent peer expiring, not the real worker after a CPU stall.
        let co = coordinatorOptions()
        let wo = workerOptions(dir, "real")
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: co)
        try c.submit([TaskDescriptor(id: "T", kind: "fake", label: "T", spec: spec(FakeSpec()))])
        let ended = runInBackground(c)
        defer { c.stop(); _ = ended.wait(timeout: .now() + 5) }
        let silent = try RawPeer(c.endpoint, id: "silent#1")
        try silent.ready("silent")
        let assign = try XCTUnwrap(try silent.expect(.assign)).decode(AssignHeader.self)
        XCTAssertEqual(assign.taskID, "T"); XCTAssertEqual(assign.attempt, 1)
        // The silent peer never heartbeats; a real worker joins and gets the task after expiry.
        let log = ExecLog()
        let (w, _) = startWorker(c.endpoint, wo, runner: fakeRunner(name: "real", log: log))
        defer { w.stop() }
        XCTAssertTrue(waitUntil(5) { (try? c.ledger.task("T")?.state) == .done })
        // The partitioned worker comes back with its result: recorded as stale, not counted.
        try silent.send(WireMessage(.done, DoneHeader(leaseToken: assign.leaseToken, artifacts: [:]), payload: [Data("stale!".utf8)]))
        XCTAssertTrue(waitUntil(3) { ((try? c.ledger.events(kind: "stale")) ?? []).count == 1 })
        let t = try XCTUnwrap(c.ledger.task("T"))
        XCTAssertEqual(String(decoding: t.result ?? Data(), as: UTF8.self), "ok T")
        XCTAssertEqual(t.attempts, 2)
        XCTAssertEqual(try c.ledger.timeline().map(\.outcome), [.lost, .done])
        XCTAssertEqual(log.snapshot.count, 1)
        XCTAssertEqual(c.status().done, 1)
    }

    func testCoordinatorRestartKeepsDoneTasksAndRequeuesLeased() throws {
        let dir = tempDir("restart")
        let bind = "ipc://\(dir.path)/c.sock"
        let log = ExecLog()
        do {
            let c = try Coordinator(runDirectory: dir, bind: bind, options: coordinatorOptions())
            try c.submit([TaskDescriptor(id: "a", kind: "fake", label: "a", spec: spec(FakeSpec())),
                          TaskDescriptor(id: "b", kind: "fake", label: "b", spec: spec(FakeSpec()))])
            startWorker(c.endpoint, workerOptions(dir, "w1"), runner: fakeRunner(name: "w1", log: log))
            XCTAssertEqual(try runBounded(c).done, 2)
            // Now a task leased to a silent peer when the coordinator goes away.
            try c.submit([TaskDescriptor(id: "c", kind: "fake", label: "c", spec: spec(FakeSpec()))])
            let ended = runInBackground(c)
            let silent = try RawPeer(c.endpoint, id: "silent#1")
            try silent.ready("silent")
            XCTAssertNotNil(try silent.expect(.assign))
            c.stop(); _ = ended.wait(timeout: .now() + 5)
            XCTAssertEqual(try c.ledger.task("c")?.state, .running)
        }
        let c2 = try Coordinator(runDirectory: dir, bind: bind, options: coordinatorOptions())
        XCTAssertEqual(try c2.ledger.task("c")?.state, .pending)
        XCTAssertEqual(try c2.ledger.timeline().first { $0.taskID == "c" }?.outcome, .lost)
        try c2.submit([TaskDescriptor(id: "a", kind: "fake", label: "a", spec: spec(FakeSpec())),
                       TaskDescriptor(id: "d", kind: "fake", label: "d", spec: spec(FakeSpec()))])
        startWorker(c2.endpoint, workerOptions(dir, "w2"), runner: fakeRunner(name: "w2", log: log))
        let st = try runBounded(c2)
        XCTAssertEqual(st.done, 4)
        XCTAssertEqual(log.snapshot.map(\.task).sorted(), ["a", "b", "c", "d"], "done tasks were not redone")
        XCTAssertEqual(try c2.ledger.task("c")?.failures, 0, "a coordinator restart does not count against the task: \((try? c2.ledger.events()) ?? [])")
    }

    func testMalformedFramesDoNotCrashCoordinator() throws {
        let dir = tempDir("malformed")
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: coordinatorOptions())
        try c.submit([TaskDescriptor(id: "T", kind: "fake", label: "T", spec: spec(FakeSpec()))])
        let ended = runInBackground(c)
        defer { c.stop(); _ = ended.wait(timeout: .now() + 5) }
        let evil = try RawPeer(c.endpoint, id: "evil")
        let v = Data("SEAFOLD/1".utf8)
        let garbage: [[Data]] = [
            [Data([0xff, 0x00, 0x13])],
            [v],
            [Data("WRONG".utf8), Data("READY".utf8), Data("{}".utf8)],
            [v, Data("NOPE".utf8), Data("{}".utf8)],
            [v, Data("READY".utf8), Data("not json".utf8)],
            [v, Data("READY".utf8), Data("{\"workerID\": 3}".utf8)],
            [v, Data("DONE".utf8), Data(repeating: 0x7b, count: 2 << 20)],
            [v, Data("FETCH".utf8), Data("{\"sha256\":\"../../etc/passwd\",\"offset\":0,\"length\":10}".utf8)],
            Array(repeating: v, count: 40),
        ]
        for g in garbage { try evil.socket.send(g) }
        try evil.socket.send([Data("SEAFOLD/2".utf8), Data("READY".utf8), Data("{}".utf8)])
        let refuse = try XCTUnwrap(try evil.expect(.refuse)).decode(ReasonHeader.self)
        XCTAssertTrue(refuse.reason.contains("SEAFOLD/2"), refuse.reason)
        // A frame above ZMQ_MAXMSGSIZE: libzmq drops that connection, the coordinator lives on.
        let huge = try RawPeer(c.endpoint, id: "huge")
        try huge.socket.send([v, Data("PUT".utf8), Data(count: Int(WireProtocol.maxFrameBytes) + 10)])
        let log = ExecLog()
        let (w, _) = startWorker(c.endpoint, workerOptions(dir, "ok"), runner: fakeRunner(name: "ok", log: log))
        defer { w.stop() }
        XCTAssertTrue(waitUntil(5) { (try? c.ledger.task("T")?.state) == .done })
        XCTAssertGreaterThanOrEqual(c.droppedMessages, garbage.count - 1)
    }

    func testVersionMismatchIsRefusedOnBothSides() throws {
        let dir = tempDir("version")
        let c = try Coordinator(runDirectory: dir, bind: "ipc://\(dir.path)/c.sock", options: coordinatorOptions())
        try c.submit([TaskDescriptor(id: "T", kind: "fake", label: "T", spec: spec(FakeSpec()))])
        let ended = runInBackground(c)
        defer { c.stop(); _ = ended.wait(timeout: .now() + 5) }
        var o = workerOptions(dir, "old")
        o.codeVersion = "test-0"
        let w = Worker(connect: c.endpoint, options: o, runner: fakeRunner(name: "old", log: ExecLog()))
        XCTAssertThrowsError(try w.run()) { e in
            guard case let ClusterError.refused(reason) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(reason.contains("test-0") && reason.contains("test-1"), reason)
        }
        XCTAssertEqual(try c.ledger.workers().first?.state, "refused")
        XCTAssertEqual(try c.ledger.timeline().count, 0)
    }
}

@testable import Cluster
import Foundation
import TestSupport
import XCTest

/// Group commit (CoordinatorBatching, dispatch): when the one transaction of a batch fails, every
/// DONE or lease in it must be handled exactly as if its own transaction had failed. The ledger
/// is made to refuse the write for real: a SQLite trigger in the run's own ledger aborts any
/// transaction that marks a task done (or inserts a lease).
final class GroupCommitTests: XCTestCase {
    /// Hand-driven peers do not heartbeat: a long liveness keeps them connected.
    private func options() -> CoordinatorOptions {
        var o = coordinatorOptions()
        o.heartbeatInterval = 1; o.liveness = 30
        return o
    }

    private func sql(_ c: Coordinator, _ statement: String) throws {
        try c.ledger.db.write { db in try db.execute(sql: statement) }
    }

    private func assignment(_ p: RawPeer) throws -> AssignHeader {
        guard let m = try p.expect(.assign) else { throw ClusterError.transfer("no ASSIGN within 5 s") }
        return try m.decode(AssignHeader.self)
    }

    /// Three DONEs drained in one batch whose commit fails: none counts as done, each lease ends
    /// as lost without counting against its task, and each task runs again (then completes once
    /// the ledger takes writes again).
    func testFailedBatchRequeuesEveryDoneInIt() throws {
        let dir = try makeTemporaryDirectory("seafold-cluster-group-done")
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: options())
        let peers = try (0..<3).map { try RawPeer(c.endpoint, id: "raw\($0)") }
        for (i, p) in peers.enumerated() { try p.ready("w\(i)") }
        try c.submit((0..<3).map { TaskDescriptor(id: "t\($0)", kind: "k", label: "t\($0)", spec: Data("{}".utf8)) })
        let served = runInBackground(c)
        defer { c.stop(); served.wait() }
        let first = try peers.map { try assignment($0) }
        XCTAssertEqual(Set(first.map(\.taskID)), ["t0", "t1", "t2"])

        try sql(c, "CREATE TRIGGER refuse_done BEFORE UPDATE OF state ON tasks WHEN NEW.state = 'done' BEGIN SELECT RAISE(ABORT, 'injected: ledger refuses results'); END")
        // Hold the serving loop while all three DONEs queue up, so one drain takes them all.
        c.lock.lock()
        for (p, a) in zip(peers, first) {
            try p.send(WireMessage(.done, DoneHeader(leaseToken: a.leaseToken, artifacts: [:]), payload: [Data("\"r\"".utf8)]))
        }
        usleep(300_000)
        c.lock.unlock()

        // Every task is handed out again (attempt 2), none was counted as done or as a failure.
        let second = try peers.map { try assignment($0) }
        XCTAssertEqual(second.map(\.attempt), [2, 2, 2])
        XCTAssertEqual(Set(second.map(\.taskID)), ["t0", "t1", "t2"])
        c.lock.lock(); let batchSize = c.lastResultBatchSize; c.lock.unlock()
        XCTAssertEqual(batchSize, 3, "the three DONEs were not drained as one batch")
        for t in try c.ledger.tasks() {
            XCTAssertNotEqual(t.state, .done, t.id)
            XCTAssertEqual(t.failures, 0, t.id)
            XCTAssertNil(t.result, t.id)
        }
        let lost = try c.ledger.timeline().filter { a in first.contains { $0.leaseToken == a.leaseToken } }
        XCTAssertEqual(lost.count, 3)
        for a in lost {
            XCTAssertEqual(a.outcome, .lost, a.taskID)
            XCTAssertTrue(a.error?.contains("result not recorded") == true, a.error ?? "nil")
        }

        // The ledger takes writes again: the second attempts complete normally.
        try sql(c, "DROP TRIGGER refuse_done")
        for (p, a) in zip(peers, second) {
            try p.send(WireMessage(.done, DoneHeader(leaseToken: a.leaseToken, artifacts: [:]), payload: [Data("\"r\"".utf8)]))
        }
        XCTAssertTrue(waitUntil(5) { c.status().done == 3 })
        for t in try c.ledger.tasks() {
            XCTAssertEqual(t.state, .done, t.id)
            XCTAssertEqual(t.attempts, 2, t.id)
            XCTAssertEqual(t.failures, 0, t.id)
        }
    }

    /// A dispatch whose one lease transaction fails hands nothing out: no ASSIGN leaves, the
    /// tasks stay pending with no attempt used, and they are leased once writes work again.
    func testFailedLeaseBatchHandsNothingOut() throws {
        let dir = try makeTemporaryDirectory("seafold-cluster-group-lease")
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: options())
        try sql(c, "CREATE TRIGGER refuse_lease BEFORE INSERT ON attempts BEGIN SELECT RAISE(ABORT, 'injected: ledger refuses leases'); END")
        let peers = try (0..<2).map { try RawPeer(c.endpoint, id: "raw\($0)") }
        for (i, p) in peers.enumerated() { try p.ready("w\(i)") }
        let served = runInBackground(c)
        defer { c.stop(); served.wait() }
        XCTAssertTrue(waitUntil(5) { c.status().connectedWorkers == 2 })
        try c.submit((0..<2).map { TaskDescriptor(id: "t\($0)", kind: "k", label: "t\($0)", spec: Data("{}".utf8)) })

        for p in peers { XCTAssertNil(try p.expect(.assign, timeout: 0.6)) }
        c.lock.lock()
        let memory = c.tasks.values.map { ($0.state, $0.attempts, $0.currentLease) }
        let leases = c.attempts.count + c.sched.leaseCount
        c.lock.unlock()
        for (state, attempts, lease) in memory {
            XCTAssertEqual(state, .pending); XCTAssertEqual(attempts, 0); XCTAssertNil(lease)
        }
        XCTAssertEqual(leases, 0)
        XCTAssertEqual(try c.ledger.timeline().count, 0)
        XCTAssertTrue(try c.ledger.tasks().allSatisfy { $0.state == .pending && $0.attempts == 0 })

        try sql(c, "DROP TRIGGER refuse_lease")
        let got = try peers.map { try assignment($0) }
        XCTAssertEqual(Set(got.map(\.taskID)), ["t0", "t1"])
        XCTAssertEqual(got.map(\.attempt), [1, 1])
    }

    /// A DONE and the lease of the task depending on it share one transaction; when it fails,
    /// the dependent task is not handed out (it is not ready after all) and the finished task
    /// runs again; once writes work, the chain completes in order.
    func testFailedBatchWithDependentLeaseUndoesBoth() throws {
        let dir = try makeTemporaryDirectory("seafold-cluster-group-chain")
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: options())
        let peers = try (0..<2).map { try RawPeer(c.endpoint, id: "raw\($0)") }
        for (i, p) in peers.enumerated() { try p.ready("w\(i)") }
        try c.submit([TaskDescriptor(id: "a", kind: "k", label: "a", spec: Data("{}".utf8)),
                      TaskDescriptor(id: "b", kind: "k", label: "b", spec: Data("{}".utf8), dependencies: ["a"])])
        let served = runInBackground(c)
        defer { c.stop(); served.wait() }
        var got: [(Int, AssignHeader)] = []
        XCTAssertTrue(waitUntil(5) {
            for (i, p) in peers.enumerated() { if let f = try? p.socket.receive(timeoutMs: 0), let m = try? WireMessage.parse(f), m.command == .assign, let h = try? m.decode(AssignHeader.self) { got.append((i, h)) } }
            return !got.isEmpty
        })
        guard let (holder, a1) = got.first else { return }
        XCTAssertEqual(a1.taskID, "a")

        try sql(c, "CREATE TRIGGER refuse_done BEFORE UPDATE OF state ON tasks WHEN NEW.state = 'done' BEGIN SELECT RAISE(ABORT, 'injected: ledger refuses results'); END")
        try peers[holder].send(WireMessage(.done, DoneHeader(leaseToken: a1.leaseToken, artifacts: [:]), payload: [Data("\"r\"".utf8)]))
        // Task a comes back (attempt 2) on one of the peers; b is never handed out meanwhile.
        var again: AssignHeader?
        XCTAssertTrue(waitUntil(5) {
            for p in peers {
                if let f = try? p.socket.receive(timeoutMs: 0), let m = try? WireMessage.parse(f), m.command == .assign, let h = try? m.decode(AssignHeader.self) {
                    XCTAssertEqual(h.taskID, "a", "the dependent task was handed out although its dependency's result was not recorded")
                    again = h
                }
            }
            return again != nil
        })
        XCTAssertEqual(again?.attempt, 2)
        let b = try c.ledger.task("b")
        XCTAssertEqual(b?.state, .pending); XCTAssertEqual(b?.attempts, 0)
        XCTAssertEqual(try c.ledger.timeline().filter { $0.taskID == "b" }.count, 0)
        let aRow = try c.ledger.task("a")
        XCTAssertEqual(aRow?.failures, 0); XCTAssertNotEqual(aRow?.state, .done)

        try sql(c, "DROP TRIGGER refuse_done")
        c.lock.lock(); let holder2 = c.sched.lease(again!.leaseToken).flatMap { c.peerOf[$0.worker] }; c.lock.unlock()
        let p2 = peers.first { p in holder2 == Data("raw\(peers.firstIndex { $0 === p }!)".utf8) }!
        try p2.send(WireMessage(.done, DoneHeader(leaseToken: again!.leaseToken, artifacts: [:]), payload: [Data("\"r\"".utf8)]))
        var bAssign: AssignHeader?
        XCTAssertTrue(waitUntil(5) {
            for p in peers {
                if let f = try? p.socket.receive(timeoutMs: 0), let m = try? WireMessage.parse(f), m.command == .assign, let h = try? m.decode(AssignHeader.self) { bAssign = h }
            }
            return bAssign != nil
        })
        XCTAssertEqual(bAssign?.taskID, "b"); XCTAssertEqual(bAssign?.attempt, 1)
        XCTAssertEqual(try c.ledger.task("a")?.state, .done)
    }
}

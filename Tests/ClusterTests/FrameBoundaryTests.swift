@testable import Cluster
import CZeroMQ
import Foundation
import TestSupport
import XCTest

/// A multipart message keeps its boundaries whatever its frame sizes: frames of 64 KiB or more
/// are received without a copy, and the "more" flag must be read before the message is moved,
/// or the rest of the message arrives as a new one whose first frame is taken as a routing id.
final class FrameBoundaryTests: XCTestCase {
    /// Socket level: a large frame in the middle of a message, then a second message.
    func testLargeFrameDoesNotEndTheMessage() throws {
        let ctx = try ZMQContext()
        let router = try ZMQSocket(ctx, .router)
        try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZMQSocket(ctx, .dealer)
        try dealer.setRoutingID("peer")
        try dealer.connect(try router.lastEndpoint())
        for size in [ZMQSocket.zeroCopyBytes - 1, ZMQSocket.zeroCopyBytes, 3 << 20] {
            let big = randomBytes(size)
            try dealer.send([Data("a".utf8), big, Data("tail".utf8)])
            try dealer.send([Data("next".utf8)])
            let first = try XCTUnwrap(router.receive(timeoutMs: 5000))
            XCTAssertEqual(first.count, 4, "size \(size): the message was cut after its large frame")
            XCTAssertEqual(first.first, Data("peer".utf8))
            XCTAssertEqual(first.dropFirst(2).first, big)
            XCTAssertEqual(first.last, Data("tail".utf8))
            let second = try XCTUnwrap(router.receive(timeoutMs: 5000))
            XCTAssertEqual(second, [Data("peer".utf8), Data("next".utf8)], "size \(size)")
        }
    }

    /// A peer cannot speak as another worker by hiding a routing id after a large frame: the
    /// victim keeps its connection and its lease, and the run finishes with the victim's result.
    func testLargeFrameCannotSmuggleAMessageAsAnotherWorker() throws {
        let dir = tempDir("smuggle")
        // Raw peers send no heartbeats: a long interval keeps them alive for the test.
        var options = coordinatorOptions()
        options.heartbeatInterval = 10
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: options)
        try c.submit([TaskDescriptor(id: "t1", kind: "fake", label: "t1", spec: Data("{}".utf8))])
        let done = runInBackground(c)
        defer { c.stop(); done.wait() }
        let victim = try RawPeer(c.endpoint, id: "victim#1")
        try victim.ready("victim")
        let assign = try XCTUnwrap(victim.expect(.assign))
        let token = try assign.decode(AssignHeader.self).leaseToken
        let attacker = try RawPeer(c.endpoint, id: "attacker#1")
        try attacker.ready("attacker")
        // The large frame ends a frame, not the message; on a broken receive the coordinator
        // would read the remaining frames as BYE from "victim#1".
        let smuggled = WireMessage(.bye, ReasonHeader(reason: "smuggled")).frames
        try attacker.socket.send([Data(count: 70_000), Data("victim#1".utf8)] + smuggled)
        try attacker.socket.send(WireMessage(.heartbeat, Empty()).frames)
        XCTAssertTrue(waitUntil(5) { c.handledMessages >= 4 })
        let events = try c.ledger.events()
        XCTAssertFalse(events.contains { $0.worker == "victim" && $0.kind.hasPrefix("worker-") && $0.kind != "worker-joined" },
                       "the victim was removed by a smuggled message: \(events.map { "\($0.kind) \($0.worker ?? "")" })")
        try victim.send(WireMessage(.done, DoneHeader(leaseToken: token, artifacts: [:]), payload: [Data("victim's result".utf8)]))
        XCTAssertTrue(waitUntil(5) { (try? c.ledger.tasks().first?.state) == .done })
        XCTAssertEqual(try c.ledger.tasks().first?.result, Data("victim's result".utf8))
    }

    /// An honest DONE whose header is 64 KiB or more is stored with its result, not with 0 bytes.
    func testDoneWithLargeHeaderKeepsItsResult() throws {
        let dir = tempDir("bigheader")
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: coordinatorOptions())
        try c.submit([TaskDescriptor(id: "t1", kind: "fake", label: "t1", spec: Data("{}".utf8))])
        let done = runInBackground(c)
        defer { c.stop(); done.wait() }
        let w = try RawPeer(c.endpoint, id: "w#1")
        try w.ready("w")
        let token = try XCTUnwrap(w.expect(.assign)).decode(AssignHeader.self).leaseToken
        // Unknown keys are ignored by the decoder: pad the header past the zero-copy size.
        let header = "{\"leaseToken\":\"\(token)\",\"artifacts\":{},\"note\":\"\(String(repeating: "x", count: 80_000))\"}"
        try w.socket.send([Data(WireProtocol.version.utf8), Data("DONE".utf8), Data(header.utf8), Data("the result".utf8)])
        XCTAssertTrue(waitUntil(5) { (try? c.ledger.tasks().first?.state) == .done })
        XCTAssertEqual(try c.ledger.tasks().first?.result, Data("the result".utf8))
    }
}

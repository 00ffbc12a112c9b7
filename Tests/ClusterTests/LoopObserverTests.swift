@testable import Cluster
import Foundation
import XCTest

/// `CoordinatorOptions.loopObserver`: `run` is bracketed by `started` and `stopped`, the loop
/// reports its turns, every message batch ends after it begins, and the leases those batches
/// report are leases the run really handed out.
final class LoopObserverTests: XCTestCase {
    final class Events: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [CoordinatorLoopEvent] = []
        func add(_ e: CoordinatorLoopEvent) { lock.lock(); list.append(e); lock.unlock() }
        var snapshot: [CoordinatorLoopEvent] { lock.lock(); defer { lock.unlock() }; return list }
    }

    func testRunIsBracketedAndBatchesReportTheirLeases() throws {
        let dir = tempDir("observer")
        let events = Events()
        var o = coordinatorOptions()
        o.loopObserver = events.add
        let c = try Coordinator(runDirectory: dir, bind: "ipc://\(dir.path)/c.sock", options: o)
        try c.submit((0..<5).map { TaskDescriptor(id: "t\($0)", kind: "fake", label: "t\($0)", spec: spec(FakeSpec())) })
        startWorker(c.endpoint, workerOptions(dir, "w1"), runner: fakeRunner(name: "w1", log: ExecLog()))
        XCTAssertEqual(try runBounded(c).done, 5)
        let e = events.snapshot
        guard case .started = e.first, case .stopped = e.last else { return XCTFail("run not bracketed: \(e.prefix(2)) … \(e.suffix(2))") }
        XCTAssertGreaterThan(e.filter { if case .turn = $0 { return true } else { return false } }.count, 0)
        // Batches alternate began → ended, and never overlap a turn.
        var open = false, leases = 0, batches = 0
        for x in e.dropFirst().dropLast() {
            switch x {
            case .batchBegan: XCTAssertFalse(open); open = true
            case let .batchEnded(n): XCTAssertTrue(open); open = false; leases += n; batches += 1
            case .turn: XCTAssertFalse(open)
            case .started, .stopped: XCTFail("started/stopped inside the run")
            }
        }
        XCTAssertGreaterThan(batches, 0)
        // Each task was leased once; the batches carry some or all of those leases (a lease can
        // also go out from the loop's own dispatch between batches).
        XCTAssertGreaterThan(leases, 0)
        XCTAssertLessThanOrEqual(leases, 5)
    }
}

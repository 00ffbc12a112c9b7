@testable import Cluster
import Foundation
import TestSupport
import XCTest

/// `StoreGarbageCollector` on a ledger and store built by hand: done, pending and failed tasks,
/// superseded checkpoints, orphans, old and fresh temporary files.
final class StoreGarbageCollectorTests: XCTestCase {
    func testDeletesExactlyWhatNoTaskNeeds() throws {
        let run = try makeTemporaryDirectory("gc").appendingPathComponent("run")
        let ledger = try Ledger(runDirectory: run)
        let store = try ArtifactStore(root: run.appendingPathComponent("artifacts"))
        func put(_ s: String) throws -> String { try store.put(Data(s.utf8)) }

        let pack = try put("dataset pack"), userFile = try put("user weights, read only by a done task")
        let outA = try put("output of A"), outA2 = try put("second output of A")
        let ckA1 = try put("checkpoint A epoch 1"), ckA2 = try put("checkpoint A epoch 2")
        let ckB1 = try put("checkpoint B epoch 1"), ckB2 = try put("checkpoint B epoch 2")
        let inC = try put("input of failed C"), ckC = try put("checkpoint C")
        let orphan = try put("an upload nobody recorded")

        let now = Date().timeIntervalSince1970
        _ = try ledger.submit([
            TaskDescriptor(id: "A", kind: "k", label: "A", spec: Data(), inputs: ["data": .hash(pack), "w": .hash(userFile)]),
            TaskDescriptor(id: "B", kind: "k", label: "B", spec: Data(), dependencies: ["A"],
                           inputs: ["data": .hash(pack), "x": .output(task: "A", name: "out")]),
            TaskDescriptor(id: "C", kind: "k", label: "C", spec: Data(), inputs: ["data": .hash(inC)]),
        ], now: now)
        var tasks = try ledger.tasks()
        tasks[0].state = .done; tasks[0].artifacts = ["out": outA, "out2": outA2]; tasks[0].checkpoint = ckA2
        tasks[1].state = .pending; tasks[1].checkpoint = ckB2
        tasks[2].state = .failed; tasks[2].checkpoint = ckC
        let events = [("A", ckA1), ("A", ckA2), ("B", ckB1), ("B", ckB2), ("C", ckC)].map {
            EventRecord(time: now, kind: "checkpoint", task: $0.0, worker: "w", detail: $0.1)
        }
        try ledger.commit(tasks: tasks, events: events)

        // Temporary files: one abandoned long ago, one being written.
        let tmp = store.root.appendingPathComponent("tmp")
        let old = tmp.appendingPathComponent("part-old"), fresh = tmp.appendingPathComponent("part-fresh")
        try Data(count: 100).write(to: old)
        try Data(count: 10).write(to: fresh)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: old.path)
        // A file that is not an artifact is not the collector's business.
        let stray = store.root.appendingPathComponent(String(pack.prefix(2))).appendingPathComponent("notes.txt")
        try Data("x".utf8).write(to: stray)

        // Unreferenced artifacts go once stale: a fresh one may await its ledger write.
        let young = try StoreGarbageCollector.plan(ledger: ledger, store: store)
        XCTAssertFalse(young.deletions.contains { $0.kind == .orphan })
        XCTAssertEqual(young.deletions.filter { $0.kind != .staleTemporary }.count, 3)
        let later = Date().addingTimeInterval(3 * 3600)
        // Three hours on, the upload of `fresh` is still being written.
        try FileManager.default.setAttributes([.modificationDate: later], ofItemAtPath: fresh.path)

        let plan = try StoreGarbageCollector.plan(ledger: ledger, store: store, now: later)
        var expected: [String: StoreGarbageCollector.Kind] = [
            try store.path(for: ckA1).path: .doneTaskCheckpoint,
            try store.path(for: ckA2).path: .doneTaskCheckpoint,
            try store.path(for: ckB1).path: .supersededCheckpoint,
            try store.path(for: userFile).path: .orphan,
            try store.path(for: orphan).path: .orphan,
            old.path: .staleTemporary,
        ]
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: plan.deletions.map { ($0.path, $0.kind) }), expected)
        XCTAssertEqual(plan.keptCount, 6)  // pack, outA, outA2, ckB2, inC, ckC
        XCTAssertEqual(plan.freedBytes, plan.deletions.reduce(0) { $0 + $1.bytes })
        XCTAssertEqual(plan.totals.first { $0.kind == .orphan }?.count, 2)
        // Planning touches nothing.
        for path in expected.keys { XCTAssertTrue(FileManager.default.fileExists(atPath: path), path) }

        let done = StoreGarbageCollector.execute(plan)
        XCTAssertEqual(done, plan)
        for path in expected.keys { XCTAssertFalse(FileManager.default.fileExists(atPath: path), path) }
        for h in [pack, outA, outA2, ckB2, inC, ckC] { XCTAssertTrue(store.contains(h), h) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: fresh.path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: stray.path))

        // Nothing left to collect; the event is recorded.
        expected = [:]
        XCTAssertEqual(try StoreGarbageCollector.plan(ledger: ledger, store: store, now: later).deletions.count, 0)
        try ledger.recordEvent(kind: "gc", detail: "freed")
        XCTAssertEqual(try ledger.events(kind: "gc").count, 1)
    }

    func testALiveCoordinatorsLockIsSeen() throws {
        let run = try makeTemporaryDirectory("gc-lock")
        XCTAssertEqual(StoreGarbageCollector.lockRun(run), -1, "no lock file: no coordinator ever started")
        let path = run.appendingPathComponent("coordinator.lock").path
        FileManager.default.createFile(atPath: path, contents: nil)
        let held = StoreGarbageCollector.lockRun(run)
        XCTAssertNotNil(held)
        XCTAssertGreaterThanOrEqual(held ?? -1, 0)
        // flock locks belong to the open file description: a second open conflicts, as another process would.
        XCTAssertNil(StoreGarbageCollector.lockRun(run))
        if let fd = held { close(fd) }
        let again = StoreGarbageCollector.lockRun(run)
        XCTAssertNotNil(again)
        if let fd = again, fd >= 0 { close(fd) }
    }
}

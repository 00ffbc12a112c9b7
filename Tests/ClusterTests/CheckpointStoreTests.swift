@testable import Cluster
import Foundation
import TestSupport
import XCTest

/// Checkpoints cost what they are worth: the coordinator keeps only each task's newest one
/// (deleted once superseded or once the result is durable), declines those past its disk
/// budget, and a worker keeps its own copy and resumes from it. Liveness holds while a large
/// upload is committed.
final class CheckpointStoreTests: XCTestCase {
    /// Saves checkpoints with the given texts (waiting on `gate` after the second), then
    /// returns the text of the checkpoint it resumed from, or "fresh".
    func checkpointingRunner(_ texts: [String], gate: DispatchSemaphore? = nil, crashFirstAttempt: Bool = false) -> Worker.Runner {
        return { a, ctx in
            if let cp = try ctx.latestCheckpoint() { return TaskOutcome(result: try Data(contentsOf: cp)) }
            for (i, text) in texts.enumerated() {
                let f = ctx.scratchDirectory.appendingPathComponent("cp-\(i)")
                try Data(text.utf8).write(to: f)
                try ctx.saveCheckpoint(f)
                if i == 1 { gate?.wait() }
            }
            if crashFirstAttempt && a.attempt == 1 { throw ClusterError.transfer("simulated crash after checkpoints") }
            return TaskOutcome(result: Data("fresh".utf8))
        }
    }

    func testSupersededCheckpointIsDeletedAndTheResultDeletesTheLast() throws {
        let dir = tempDir("cp-supersede")
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: coordinatorOptions())
        try c.submit([TaskDescriptor(id: "ft", kind: "fake", label: "ft", spec: Data("{}".utf8))])
        let gate = DispatchSemaphore(value: 0)
        var o = workerOptions(dir, "w")
        o.checkpointUploadShare = 1  // every checkpoint goes up
        startWorker(c.endpoint, o, runner: checkpointingRunner(["A", "B", "C"], gate: gate))
        let done = runInBackground(c)
        defer { c.stop(); done.wait() }
        let (a, b, cc) = (ArtifactStore.sha256(Data("A".utf8)), ArtifactStore.sha256(Data("B".utf8)), ArtifactStore.sha256(Data("C".utf8)))
        XCTAssertTrue(waitUntil(10) { (try? c.ledger.task("ft")?.checkpoint) == b })
        XCTAssertTrue(c.store.contains(b))
        XCTAssertFalse(c.store.contains(a), "checkpoint A was superseded by B and must be gone")
        gate.signal()
        XCTAssertTrue(waitUntil(10) { (try? c.ledger.task("ft")?.state) == .done })
        XCTAssertEqual(try c.ledger.events(kind: "checkpoint").map(\.detail), [a, b, cc])
        for h in [a, b, cc] { XCTAssertFalse(c.store.contains(h), "no checkpoint outlives the result") }
        XCTAssertNil(try c.ledger.task("ft")?.checkpoint)
        // Nor the worker's own copy.
        XCTAssertNil(LocalCheckpoints(cache: o.cacheDirectory).meta("ft"))
    }

    /// Over the budget the checkpoint stays on the worker; the retry on that worker resumes
    /// from its own copy without the coordinator ever holding it.
    func testCheckpointOverBudgetIsDeclinedAndTheWorkerResumesFromItsOwnCopy() throws {
        let dir = tempDir("cp-budget")
        var co = coordinatorOptions()
        co.checkpointRoomBytes = 4
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: co)
        try c.submit([TaskDescriptor(id: "ft", kind: "fake", label: "ft", spec: Data("{}".utf8))])
        var o = workerOptions(dir, "w")
        o.checkpointUploadShare = 1
        startWorker(c.endpoint, o, runner: checkpointingRunner(["epoch 1", "epoch 2"], crashFirstAttempt: true))
        XCTAssertEqual(try runBounded(c).done, 1)
        let t = try XCTUnwrap(c.ledger.task("ft"))
        XCTAssertEqual(t.attempts, 2)
        XCTAssertEqual(String(decoding: t.result ?? Data(), as: UTF8.self), "epoch 2", "resumed from the worker's newest checkpoint")
        XCTAssertEqual(try c.ledger.events(kind: "checkpoint").count, 0, "the coordinator declined both")
        XCTAssertEqual(c.store.totalBytes, 0)
    }

    /// A holder can always replace its checkpoint: with room for 2.5 checkpoints held by two
    /// tasks, the first task's next checkpoints still go in (its previous one is deleted first,
    /// as both would not fit), and the checkpoints held never pass the room.
    func testAHolderReplacesItsCheckpointWhenTheRoomIsFull() throws {
        let dir = tempDir("cp-room")
        var co = coordinatorOptions()
        co.checkpointRoomBytes = 2500
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: co)
        try c.submit([TaskDescriptor(id: "a", kind: "fake", label: "a", spec: Data("{}".utf8), priority: 2),
                      TaskDescriptor(id: "b", kind: "fake", label: "b", spec: Data("{}".utf8), priority: 1)])
        let aSaved = DispatchSemaphore(value: 0), bTried = DispatchSemaphore(value: 0)
        func blob(_ tag: String) -> Data { Data((tag + String(repeating: "-", count: 1000)).utf8.prefix(1000)) }
        var o = workerOptions(dir, "w")
        o.checkpointUploadShare = 1
        o.slots = 2
        let peak = ExecLog()  // one entry per save: the store's bytes right after it
        startWorker(c.endpoint, o) { a, ctx in
            func save(_ tag: String) throws {
                let f = ctx.scratchDirectory.appendingPathComponent(tag)
                try blob(tag).write(to: f)
                try ctx.saveCheckpoint(f)
                peak.add(tag, 0, "", Double(c.store.totalBytes), 0)
            }
            if a.taskID == "a" {
                try save("A1"); aSaved.signal(); bTried.wait()
                try save("A2"); try save("A3")
            } else {
                aSaved.wait(); try save("B1"); bTried.signal()
            }
            return TaskOutcome(result: Data(a.taskID.utf8))
        }
        XCTAssertEqual(try runBounded(c).done, 2)
        XCTAssertEqual(try c.ledger.events(kind: "checkpoint").map(\.detail), ["A1", "B1", "A2", "A3"].map { ArtifactStore.sha256(blob($0)) })
        XCTAssertEqual(try c.ledger.events(kind: "checkpoint-declined").count, 0)
        XCTAssertEqual(peak.snapshot.count, 4)
        XCTAssertLessThanOrEqual(peak.snapshot.map(\.start).max() ?? 0, 2500, "the checkpoints held stayed within the room")
    }

    /// Results are always taken, but when they alone carry the run directory past its budget
    /// (the estimate was low) the coordinator says so, once.
    func testResultsPastTheBudgetAreTakenAndReportedOnce() throws {
        let dir = tempDir("budget-exceeded")
        var co = coordinatorOptions()
        co.budgetBytes = 1 << 20
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: co)
        try c.submit((0..<2).map { TaskDescriptor(id: "t\($0)", kind: "fake", label: "t\($0)", spec: spec(FakeSpec(outputBytes: 2 << 20))) })
        startWorker(c.endpoint, workerOptions(dir, "w"), runner: fakeRunner(name: "w", log: ExecLog()))
        XCTAssertEqual(try runBounded(c).done, 2, "results are never declined")
        let events = try c.ledger.events(kind: "budget-exceeded")
        XCTAssertEqual(events.count, 1, "said once")
        XCTAssertTrue(events.first?.detail.contains("past its 2 MB budget") == true, events.first?.detail ?? "")
    }

    /// With a tenth of the time for uploads, a checkpoint that follows the last upload closely
    /// stays local; the worker still has the newest, the coordinator the first.
    func testUploadsAreSpacedByTheirMeasuredCost() throws {
        let dir = tempDir("cp-share")
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: coordinatorOptions())
        try c.submit([TaskDescriptor(id: "ft", kind: "fake", label: "ft", spec: Data("{}".utf8))])
        var o = workerOptions(dir, "w")
        o.checkpointUploadShare = 1e-6  // the next upload only after a million times the last one's cost
        startWorker(c.endpoint, o, runner: checkpointingRunner(["one", "two", "three"], crashFirstAttempt: true))
        XCTAssertEqual(try runBounded(c).done, 1)
        XCTAssertEqual(try c.ledger.events(kind: "checkpoint").map(\.detail), [ArtifactStore.sha256(Data("one".utf8))])
        XCTAssertEqual(String(decoding: try c.ledger.task("ft")?.result ?? Data(), as: UTF8.self), "three")
    }

    /// A checkpoint from another lineage (a worker that ran the task later) wins over an older
    /// local copy; the local copy is used when the coordinator's is one of its own line.
    func testLocalCheckpointLineage() throws {
        let cache = tempDir("cp-lineage")
        let local = LocalCheckpoints(cache: cache)
        let f = cache.appendingPathComponent("f")
        try Data("mine".utf8).write(to: f)
        let mine = ArtifactStore.sha256(Data("mine".utf8))
        try local.keep("task", file: f, meta: .init(sha256: mine, size: 4, uploaded: ["up1"], savedAt: 1))
        XCTAssertEqual(try Data(contentsOf: local.file("task")), Data("mine".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: f.path), "moved, not copied")
        XCTAssertEqual(local.meta("task")?.uploaded, ["up1"])
        for i in 0..<3 {
            let g = cache.appendingPathComponent("g\(i)")
            try Data("other \(i)".utf8).write(to: g)
            try local.keep("other\(i)", file: g, meta: .init(sha256: "x", size: 7, uploaded: [], savedAt: Double(10 + i)))
        }
        let kept = try FileManager.default.contentsOfDirectory(atPath: local.root.path)
        XCTAssertEqual(kept.count, LocalCheckpoints.keepTasks, "old tasks' checkpoints are pruned")
        XCTAssertNotNil(local.meta("other2"))
    }

    /// The commit of an upload (fsync of a large file) takes longer than the liveness window:
    /// the coordinator keeps serving heartbeats meanwhile, so no worker is lost and no result
    /// is stale.
    func testSlowCommitOfAnUploadLosesNoWorker() throws {
        PendingArtifact.slowDiskForTesting = 2.5  // > 3 × 0.25 s liveness
        defer { PendingArtifact.slowDiskForTesting = 0 }
        let dir = tempDir("cp-slowdisk")
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: coordinatorOptions())
        try c.submit((0..<4).map { TaskDescriptor(id: "t\($0)", kind: "fake", label: "t\($0)", spec: spec(FakeSpec(outputBytes: 3 << 20))) })
        let log = ExecLog()
        for n in ["w1", "w2"] { startWorker(c.endpoint, workerOptions(dir, n), runner: fakeRunner(name: n, log: log)) }
        let st = try runBounded(c, timeout: 60)
        XCTAssertEqual(st.done, 4)
        let events = try c.ledger.events()
        let bad = events.filter { ["worker-lost", "worker-reconnected", "stale", "lease-lost"].contains($0.kind) }
        XCTAssertEqual(bad.map { "\($0.kind): \($0.detail)" }, [])
        XCTAssertEqual(log.snapshot.count, 4, "every task ran once")
    }
}

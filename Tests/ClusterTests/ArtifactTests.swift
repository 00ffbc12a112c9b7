@testable import Cluster
import Foundation
import XCTest

final class ArtifactTests: XCTestCase {
    func testStoreHashesAtomicallyAndRejectsBadNames() throws {
        let dir = tempDir("store")
        let s = try ArtifactStore(root: dir)
        // sha256("abc") from FIPS 180-2.
        XCTAssertEqual(try s.put(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertTrue(s.verify("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        XCTAssertThrowsError(try s.path(for: "../../x"))
        for bad in ["", "..", "a/b", ".hidden", "x\u{0}y"] { XCTAssertThrowsError(try ArtifactStore.validateName(bad), bad) }
        XCTAssertNoThrow(try ArtifactStore.validateName("weights.safetensors"))
        let w = try s.beginWrite()
        try w.append(Data("abd".utf8))
        XCTAssertThrowsError(try w.commit(expected: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("tmp").path), [])
    }

    func testTransferOfMegabytesVerifiedCorruptCacheRefetchedOutputsChained() throws {
        let dir = tempDir("transfer")
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: coordinatorOptions())
        let blob = randomBytes((3 << 20) + 12345)
        let src = dir.appendingPathComponent("blob.bin")
        try blob.write(to: src)
        let h = try c.importArtifact(src)
        XCTAssertEqual(h, ArtifactStore.sha256(blob))
        try c.submit([
            TaskDescriptor(id: "p", kind: "fake", label: "p", spec: spec(FakeSpec(outputBytes: 2 << 20, inputNames: ["blob"])), inputs: ["blob": .hash(h)]),
            TaskDescriptor(id: "q", kind: "fake", label: "q", spec: spec(FakeSpec(inputNames: ["prev"])), dependencies: ["p"], inputs: ["prev": .output(task: "p", name: "out.bin")]),
        ])
        // The worker's cache already holds a corrupt copy of the blob.
        let opts = workerOptions(dir, "w")
        let cache = try ArtifactStore(root: opts.cacheDirectory)
        let bad = try cache.path(for: h)
        try FileManager.default.createDirectory(at: bad.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(blob.prefix(1000)).write(to: bad)
        startWorker(c.endpoint, opts, runner: fakeRunner(name: "w", log: ExecLog()))
        XCTAssertEqual(try runBounded(c).done, 2)
        let p = try XCTUnwrap(c.ledger.task("p"))
        XCTAssertEqual(String(decoding: p.result ?? Data(), as: UTF8.self), "ok p\nblob:\(h)")
        let out = try XCTUnwrap(p.artifacts["out.bin"])
        XCTAssertTrue(c.store.verify(out))
        XCTAssertEqual(c.store.size(of: out), 2 << 20)
        XCTAssertEqual(String(decoding: try c.ledger.task("q")?.result ?? Data(), as: UTF8.self), "ok q\nprev:\(out)")
        XCTAssertTrue(cache.verify(h), "the corrupt cached copy was replaced")
    }

    func testCheckpointFromFailedAttemptReachesTheNextAttempt() throws {
        let dir = tempDir("checkpoint")
        let c = try Coordinator(runDirectory: dir, bind: "ipc://\(dir.path)/c.sock", options: coordinatorOptions())
        try c.submit([TaskDescriptor(id: "ft", kind: "fake", label: "ft", spec: spec(FakeSpec(checkpointText: "epoch 3 state")))])
        startWorker(c.endpoint, workerOptions(dir, "w"), runner: fakeRunner(name: "w", log: ExecLog()))
        XCTAssertEqual(try runBounded(c).done, 1)
        let t = try XCTUnwrap(c.ledger.task("ft"))
        XCTAssertEqual(t.attempts, 2)
        XCTAssertEqual(String(decoding: t.result ?? Data(), as: UTF8.self), "epoch 3 state")
        let cp = ArtifactStore.sha256(Data("epoch 3 state".utf8))
        XCTAssertTrue(try c.ledger.events(kind: "checkpoint").contains { $0.detail == cp }, "the checkpoint reached the coordinator")
        // The durable result supersedes it: gone from the task and from the store.
        XCTAssertNil(t.checkpoint)
        XCTAssertFalse(c.store.contains(cp))
    }
}

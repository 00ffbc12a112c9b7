@testable import Cluster
import Foundation
import TestSupport
import XCTest

final class CacheCorruptionTests: XCTestCase {
    /// A running worker verified a cached input once; then the file is corrupted on disk (rewritten
    /// in place, and later replaced by a renamed copy, as scripts/chaos.sh does). The next tasks
    /// using it must hash it again, notice, fetch it again, and see the right bytes.
    func testCorruptionAfterVerificationIsDetectedByHashAndRefetched() throws {
        let dir = tempDir("recorrupt")
        let c = try Coordinator(runDirectory: dir.appendingPathComponent("run"), bind: "ipc://\(dir.path)/c.sock", options: coordinatorOptions())
        let blob = randomBytes(300_000)
        let src = dir.appendingPathComponent("blob.bin")
        try blob.write(to: src)
        let h = try c.importArtifact(src)
        let want = "blob:\(h)"
        let opts = workerOptions(dir, "w")
        let (w, _) = startWorker(c.endpoint, opts, runner: fakeRunner(name: "w", log: ExecLog()))
        defer { w.stop() }
        let ended = runInBackground(c)
        defer { c.stop(); _ = ended.wait(timeout: .now() + 5) }
        let cache = try ArtifactStore(root: opts.cacheDirectory)

        func runTask(_ id: String) throws -> String {
            try c.submit([TaskDescriptor(id: id, kind: "fake", label: id, spec: spec(FakeSpec(inputNames: ["blob"])), inputs: ["blob": .hash(h)])])
            XCTAssertTrue(waitUntil(10) { (try? c.ledger.task(id)?.state) == .done }, id)
            return String(decoding: try c.ledger.task(id)?.result ?? Data(), as: UTF8.self)
        }
        XCTAssertEqual(try runTask("first"), "ok first\n\(want)")
        XCTAssertTrue(cache.verify(h))
        let path = try cache.path(for: h).path

        // 1. Rewritten in place (same inode, same size, new contents).
        var bad = blob
        bad[1000] ^= 0xff
        let fh = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try fh.write(contentsOf: bad)
        try fh.close()
        XCTAssertFalse(cache.verify(h))
        XCTAssertEqual(try runTask("second"), "ok second\n\(want)")
        XCTAssertTrue(cache.verify(h), "the corrupt copy was replaced by a fetched one")

        // 2. Replaced by a corrupt copy renamed over it (a new inode).
        try Data(bad).write(to: URL(fileURLWithPath: path + ".chaos"))
        XCTAssertEqual(rename(path + ".chaos", path), 0)
        XCTAssertEqual(try runTask("third"), "ok third\n\(want)")
        XCTAssertTrue(cache.verify(h))
    }
}

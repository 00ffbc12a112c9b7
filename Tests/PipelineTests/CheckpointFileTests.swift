import Foundation
import XCTest
@testable import Pipeline

/// The checkpoint policy every file-backed TaskIO shares: newest only, replaced whole.
final class CheckpointFileTests: XCTestCase {
    func testKeepsOnlyTheNewestAndMovesOrCopies() throws {
        let dir = try temporaryDirectory(self, "ckpt")
        let store = CheckpointFile(dir.appendingPathComponent("checkpoints/latest.safetensors"))
        XCTAssertNil(store.latest(), "nothing before the first checkpoint")

        let first = dir.appendingPathComponent("epoch1")
        try Data("one".utf8).write(to: first)
        try store.store(first)
        XCTAssertEqual(try Data(contentsOf: try XCTUnwrap(store.latest())), Data("one".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: first.path), "moved, not copied")

        let second = dir.appendingPathComponent("epoch2")
        try Data("two".utf8).write(to: second)
        try store.store(second, copy: true)
        XCTAssertEqual(try Data(contentsOf: try XCTUnwrap(store.latest())), Data("two".utf8), "the newer one replaces it")
        XCTAssertTrue(FileManager.default.fileExists(atPath: second.path), "copy keeps the source")
        let left = try FileManager.default.contentsOfDirectory(atPath: store.url.deletingLastPathComponent().path)
        XCTAssertEqual(left, ["latest.safetensors"], "no temporary file is left beside it")

        try store.store(store.url)  // storing the stored file is a no-op
        XCTAssertEqual(try Data(contentsOf: store.url), Data("two".utf8))
    }
}

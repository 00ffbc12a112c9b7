import Foundation
import TestSupport
import XCTest

/// The shared test helpers do what the other targets rely on: directories are fresh and go
/// away even when the body throws, a child past its deadline is killed, merged output keeps
/// both streams, and a wait that never comes true reports false.
final class TestSupportTests: XCTestCase {
    private struct Boom: Error {}

    func testTemporaryDirectoriesAreFreshAndRemovedWhenTheBodyThrows() throws {
        let a = try TemporaryDirectory.make("seafold-ts"), b = try TemporaryDirectory.make("seafold-ts")
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        XCTAssertNotEqual(a, b)
        var isDir: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: a.path, isDirectory: &isDir) && isDir.boolValue)
        XCTAssertTrue(a.lastPathComponent.hasPrefix("seafold-ts-"), a.path)

        var seen: URL?
        XCTAssertThrowsError(try TemporaryDirectory.with("seafold-ts") { dir -> Void in
            seen = dir
            try Data("x".utf8).write(to: dir.appendingPathComponent("f"))
            throw Boom()
        })
        let dir = try XCTUnwrap(seen)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path), "left behind: \(dir.path)")
    }

    func testChildProcessCapturesMergesAndKillsAtTheDeadline() throws {
        let sh = URL(fileURLWithPath: "/bin/sh")
        let split = try ChildProcess.run(sh, ["-c", "echo out; echo err >&2; exit 3"], environment: ["TS_VAR": "v"])
        XCTAssertEqual(split.status, 3)
        XCTAssertEqual(split.stdout, "out\n")
        XCTAssertEqual(split.stderr, "err\n")
        XCTAssertFalse(split.timedOut)

        let merged = try ChildProcess.run(sh, ["-c", "echo one; echo two >&2; echo \"$TS_VAR\""], environment: ["TS_VAR": "v"],
                                          mergingStderr: true)
        XCTAssertEqual(merged.stdout, "one\ntwo\nv\n")
        XCTAssertEqual(merged.stderr, "")

        let slow = try ChildProcess.run(sh, ["-c", "exec sleep 30"], timeout: 0.3)
        XCTAssertTrue(slow.timedOut)
        XCTAssertNotEqual(slow.status, 0)
    }

    func testWaitUntilReportsWhetherTheConditionCameTrue() {
        var calls = 0
        XCTAssertTrue(waitUntil(5) { calls += 1; return calls == 3 })
        XCTAssertEqual(calls, 3)
        XCTAssertFalse(waitUntil(0.05, every: 0.01) { false })
    }

    func testRepositoryFilesFindTheCommittedFixtures() {
        XCTAssertTrue(FileManager.default.fileExists(atPath: RepositoryFiles.url("Package.swift").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: RepositoryFiles.url("Tests/Fixtures/pytorch_alexnet.safetensors").path))
    }

    func testMaxAbsDifference() {
        XCTAssertEqual(maxAbsDifference([1, -2, 3], [1.5, -2, 1]), 2)
        XCTAssertEqual(maxAbsDifference([], []), 0)
    }
}

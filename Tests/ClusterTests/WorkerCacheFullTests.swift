@testable import Cluster
import Foundation
import XCTest

/// A worker whose cache disk is full fails its tasks with an error that names the path, and
/// the tasks go to a healthy worker: one bad machine does not fail the run. The cache is a
/// real 64 KiB tmpfs (needs root to mount; skipped visibly otherwise).
final class WorkerCacheFullTests: XCTestCase {
    private var mountPoint: URL?

    override func tearDown() {
        if let m = mountPoint { _ = DiskFullTests.sh("/bin/umount", ["-l", m.path]); mountPoint = nil }
        super.tearDown()
    }

    func testFullCacheFailsWithThePathAndTheTasksGoElsewhere() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to mount a tmpfs as a worker's cache") }
        let dir = tempDir("cachefull")
        let mnt = dir.appendingPathComponent("tiny")
        try FileManager.default.createDirectory(at: mnt, withIntermediateDirectories: true)
        guard DiskFullTests.sh("/bin/mount", ["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", mnt.path]) == 0 else {
            throw XCTSkip("mount -t tmpfs failed (no CAP_SYS_ADMIN in this container?)")
        }
        mountPoint = mnt
        let c = try Coordinator(runDirectory: dir.appendingPathComponent("run"), bind: "tcp://127.0.0.1:*", options: coordinatorOptions())
        let input = dir.appendingPathComponent("input.bin")
        try randomBytes(1 << 20).write(to: input)
        let h = try c.importArtifact(input)
        try c.submit((0..<12).map {
            TaskDescriptor(id: "t\($0)", kind: "fake", label: "t\($0)", spec: spec(FakeSpec(sleepMs: 20, inputNames: ["data"])), inputs: ["data": .hash(h)])
        })
        let log = ExecLog()
        var bad = workerOptions(dir, "bad")
        bad.cacheDirectory = mnt.appendingPathComponent("cache")
        startWorker(c.endpoint, bad, runner: fakeRunner(name: "bad", log: log))
        usleep(200_000)  // the bad worker is first in line
        startWorker(c.endpoint, workerOptions(dir, "good"), runner: fakeRunner(name: "good", log: log))
        let st = try runBounded(c, timeout: 60)
        XCTAssertEqual(st.done, 12, "every task finished on the healthy worker: \(st.failures)")
        XCTAssertEqual(st.failed, 0)
        let failedAttempts = try c.ledger.timeline().filter { $0.workerID == "bad" && $0.outcome != .done }
        XCTAssertFalse(failedAttempts.isEmpty, "the bad worker was tried")
        for a in failedAttempts where a.outcome == .failed {
            XCTAssertTrue(a.error?.contains(mnt.path) == true, "the error names the full cache: \(a.error ?? "")")
        }
    }
}

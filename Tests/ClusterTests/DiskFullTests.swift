@testable import Cluster
import Foundation
import GRDB
import TestSupport
import XCTest

/// Disk full (issue #10): the run directory on a small tmpfs that is filled up while workers
/// upload artifacts and results. Needs root (mount); skipped visibly otherwise.
final class DiskFullTests: XCTestCase {
    private var mountPoint: URL?

    override func tearDown() {
        if let m = mountPoint { _ = DiskFullTests.sh("/bin/umount", ["-l", m.path]); mountPoint = nil }
        super.tearDown()
    }

    @discardableResult
    static func sh(_ exe: String, _ args: [String]) -> Int32 {
        (try? ChildProcess.run(URL(fileURLWithPath: exe), args))?.status ?? -1
    }

    /// Mounts a tmpfs of `megabytes` at a fresh directory, or skips the test.
    private func smallTmpfs(megabytes: Int) throws -> URL {
        guard getuid() == 0 else { throw XCTSkip("disk-full test needs root to mount a tmpfs") }
        let m = tempDir("tmpfs")
        guard DiskFullTests.sh("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0700", "tmpfs", m.path]) == 0 else {
            throw XCTSkip("mount -t tmpfs failed (no CAP_SYS_ADMIN in this container?)")
        }
        mountPoint = m
        return m
    }

    /// Writes zeros to `file` until the file system says ENOSPC; returns the bytes written.
    static func fill(_ file: URL) -> Int {
        let fd = open(file.path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 64 << 10)
        var total = 0
        while true {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            total += n
        }
        // Then single bytes, to leave no page free.
        while write(fd, chunk, 1) == 1 { total += 1 }
        return total
    }

    func testFullRunDirectoryPausesWithClearErrorKeepsLedgerConsistentAndResumes() throws {
        let mnt = try smallTmpfs(megabytes: 8)
        let run = mnt.appendingPathComponent("run")
        let outside = tempDir("diskfull")
        let c = try Coordinator(runDirectory: run, bind: "ipc://\(outside.path)/c.sock", options: coordinatorOptions())
        let n = 8
        // Each task uploads a 256 KiB artifact and returns a 96 KiB result (into the ledger).
        let gate = Gate()
        let runner: Worker.Runner = { a, ctx in
            if a.taskID.hasPrefix("u") { gate.wait() }
            let f = ctx.scratchDirectory.appendingPathComponent("out.bin")
            var g = SplitMix(seed: UInt64(a.taskID.utf8.reduce(0) { $0 &* 31 &+ Int($1) } & 0xffff))
            try Data((0..<(256 << 10)).map { _ in UInt8(truncatingIfNeeded: g.next()) }).write(to: f)
            let result = Data(("result of \(a.taskID) " + String(repeating: "r", count: 96 << 10)).utf8)
            return TaskOutcome(result: result, artifacts: ["out.bin": f])
        }
        try c.submit((0..<n).map { TaskDescriptor(id: "t\($0)", kind: "fake", label: "t\($0)", spec: spec(FakeSpec())) })

        // The disk fills up before any result arrives.
        let filler = mnt.appendingPathComponent("filler")
        XCTAssertGreaterThan(DiskFullTests.fill(filler), 4 << 20)
        let ended = runInBackground(c)
        defer { c.stop(); _ = ended.wait(timeout: .now() + 5) }
        for i in 0..<2 { startWorker(c.endpoint, workerOptions(outside, "w\(i)"), runner: runner) }

        // 1. It stops taking results, with an error naming the path and saying "no space".
        XCTAssertTrue(waitUntil(15) { c.status().storageProblem != nil }, "the coordinator never reported the full disk")
        let problem = try XCTUnwrap(c.status().storageProblem)
        print("disk-full error reported: \(problem)")
        XCTAssertTrue(problem.contains(run.path), problem)
        XCTAssertTrue(problem.lowercased().contains("no space"), problem)
        XCTAssertTrue(c.status().summaryLine.contains("PAUSED"), c.status().summaryLine)
        usleep(1_500_000)  // workers keep trying meanwhile; nothing may fail or crash
        let paused = c.status()
        XCTAssertEqual(paused.failed, 0, "\(paused.failures)")
        XCTAssertNotNil(paused.storageProblem)
        XCTAssertLessThan(paused.done, n)
        try assertLedgerConsistent(c, run: run)

        // 2. Space returns: it resumes and completes every task exactly once, nothing counted against them.
        try FileManager.default.removeItem(at: filler)
        XCTAssertTrue(waitUntil(30) { c.status().done == n }, "\(c.status().summaryLine)")
        let st = c.status()
        XCTAssertNil(st.storageProblem)
        XCTAssertEqual(st.failed, 0)
        for t in try c.ledger.tasks() {
            XCTAssertEqual(t.state, .done, t.id)
            XCTAssertEqual(t.failures, 0, "\(t.id): \(t.lastError ?? "")")
            XCTAssertTrue(String(decoding: t.result ?? Data(), as: UTF8.self).hasPrefix("result of \(t.id) "), t.id)
            XCTAssertEqual(t.result?.count, ("result of \(t.id) ".utf8.count + (96 << 10)))
            XCTAssertTrue(c.store.verify(try XCTUnwrap(t.artifacts["out.bin"])), t.id)
        }
        XCTAssertEqual(try c.ledger.events(kind: "done").count, n, "one done per task, nothing double-counted")
        let timeline = try c.ledger.timeline()
        print("disk-full run: \(timeline.count) attempts (\(Dictionary(grouping: timeline, by: \.outcome.rawValue).mapValues(\.count))), events \(Dictionary(grouping: try c.ledger.events(), by: \.kind).mapValues(\.count))")
        XCTAssertGreaterThanOrEqual(try c.ledger.events(kind: "space-returned").count, 1)
        try assertLedgerConsistent(c, run: run)

        // 3. The disk fills while two tasks run: their artifact uploads (or result rows) hit
        // ENOSPC mid-transfer. Same outcome: paused with the error, nothing failed, then resumed.
        try c.submit((0..<n).map { TaskDescriptor(id: "u\($0)", kind: "fake", label: "u\($0)", spec: spec(FakeSpec())) })
        XCTAssertTrue(waitUntil(10) { c.status().running == 2 })
        XCTAssertGreaterThan(DiskFullTests.fill(filler), 1 << 20)
        gate.open()
        XCTAssertTrue(waitUntil(15) { c.status().storageProblem != nil }, "no disk-full report for uploads")
        let problem2 = try XCTUnwrap(c.status().storageProblem)
        print("disk-full error reported mid-upload: \(problem2)")
        XCTAssertTrue(problem2.contains(run.path) && problem2.lowercased().contains("no space"), problem2)
        usleep(1_000_000)
        XCTAssertEqual(c.status().failed, 0)
        try assertLedgerConsistent(c, run: run)
        try FileManager.default.removeItem(at: filler)
        XCTAssertTrue(waitUntil(30) { c.status().done == 2 * n }, "\(c.status().summaryLine)")
        for t in try c.ledger.tasks() {
            XCTAssertEqual(t.failures, 0, "\(t.id): \(t.lastError ?? "")")
            XCTAssertTrue(c.store.verify(try XCTUnwrap(t.artifacts["out.bin"])), t.id)
        }
        XCTAssertEqual(try c.ledger.events(kind: "done").count, 2 * n, "one done per task, nothing double-counted")
        XCTAssertGreaterThanOrEqual(try c.ledger.events(kind: "space-returned").count, 2)
        let timeline2 = try c.ledger.timeline()
        print("disk-full run, both phases: \(timeline2.count) attempts (\(Dictionary(grouping: timeline2, by: \.outcome.rawValue).mapValues(\.count))), events \(Dictionary(grouping: try c.ledger.events(), by: \.kind).mapValues(\.count))")
        try assertLedgerConsistent(c, run: run)
        // A second coordinator on the same directory (a restart) sees the same finished run.
        c.stop(); _ = ended.wait(timeout: .now() + 5)
        let reopened = try Ledger(runDirectory: run)
        XCTAssertEqual(try reopened.tasks().filter { $0.state == .done }.count, 2 * n)
    }

    /// SQLite's integrity check passes, every done task's artifacts are in the store intact, no
    /// attempt is "running" for a task that is not running under that lease, and every line of
    /// events.jsonl is whole JSON.
    private func assertLedgerConsistent(_ c: Coordinator, run: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let reader = try Ledger(runDirectory: run)
        let check = try reader.db.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        XCTAssertEqual(check, "ok", file: file, line: line)
        let tasks = Dictionary(uniqueKeysWithValues: try reader.tasks().map { ($0.id, $0) })
        for t in tasks.values where t.state == .done {
            for (_, h) in t.artifacts { XCTAssertTrue(c.store.verify(h), "\(t.id) artifact \(h)", file: file, line: line) }
            XCTAssertNotNil(t.result, file: file, line: line)
        }
        for a in try reader.timeline() where a.outcome == .running {
            XCTAssertEqual(tasks[a.taskID]?.currentLease, a.leaseToken, "attempt \(a.leaseToken) of \(a.taskID) is running in the ledger but not current", file: file, line: line)
        }
        let text = String(decoding: try Data(contentsOf: run.appendingPathComponent("events.jsonl")), as: UTF8.self)
        for l in text.split(separator: "\n") {
            XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(l.utf8)), String(l), file: file, line: line)
        }
    }
}

/// A latch the fake runner waits on.
final class Gate: @unchecked Sendable {
    private let lock = NSLock()
    private var isOpen = false
    func open() { lock.lock(); isOpen = true; lock.unlock() }
    func wait() {
        for _ in 0..<2000 { lock.lock(); let o = isOpen; lock.unlock(); if o { return }; usleep(10_000) }
    }
}

/// Deterministic bytes for the fake outputs.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

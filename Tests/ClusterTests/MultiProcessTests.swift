@testable import Cluster
import Foundation
import TestSupport
import XCTest

/// Runs the built `seafold cluster-fake` binary: a coordinator and two worker processes;
/// one worker is SIGKILLed mid-task and the run must still finish with every task done once.
final class MultiProcessTests: XCTestCase {
    func seafoldBinary() throws -> URL {
        guard let u = RepositoryFiles.builtExecutable("seafold") else {
            throw XCTSkip("seafold binary not built next to the tests (run `swift build` first)")
        }
        return u
    }

    func testSigkillWorkerMidTaskRunCompletesEachTaskDoneOnce() throws {
        let bin = try seafoldBinary()
        let dir = tempDir("multiproc")
        let run = dir.appendingPathComponent("run"), epFile = dir.appendingPathComponent("endpoint")
        let coord = try ChildProcess.start(bin, ["cluster-fake", "coordinator", "--run-dir", run.path, "--endpoint-file", epFile.path,
                                     "--tasks", "6", "--sleep-ms", "600", "--heartbeat-ms", "200", "--output-bytes", "100000"])
        defer { if coord.isRunning { coord.terminate() } }
        XCTAssertTrue(waitUntil(20) { FileManager.default.fileExists(atPath: epFile.path) })
        let ep = try String(contentsOf: epFile, encoding: .utf8)
        var workers: [String: Process] = [:]
        for name in ["w1", "w2"] {
            workers[name] = try ChildProcess.start(bin, ["cluster-fake", "worker", "--connect", ep, "--name", name, "--cache", dir.appendingPathComponent(name).path, "--heartbeat-ms", "200"])
        }
        defer { for p in workers.values where p.isRunning { p.terminate() } }
        let ledger = try Ledger(runDirectory: run)
        // Kill w1 while it holds a lease.
        XCTAssertTrue(waitUntil(20) { ((try? ledger.timeline()) ?? []).contains { $0.workerID == "w1" && $0.outcome == .running } })
        kill(workers["w1"]!.processIdentifier, SIGKILL)
        XCTAssertTrue(waitUntil(60) { !coord.isRunning }, "coordinator finished")
        coord.waitUntilExit()
        XCTAssertEqual(coord.terminationStatus, 0)
        let tasks = try ledger.tasks()
        XCTAssertEqual(tasks.count, 6)
        XCTAssertTrue(tasks.allSatisfy { $0.state == .done })
        let timeline = try ledger.timeline()
        for t in tasks {
            XCTAssertEqual(timeline.filter { $0.taskID == t.id && $0.outcome == .done }.count, 1, "\(t.id) done exactly once")
            XCTAssertNotNil(t.artifacts["out.bin"])
        }
        XCTAssertTrue(timeline.contains { $0.workerID == "w1" && $0.outcome == .lost }, "the killed worker's lease was lost")
    }
}

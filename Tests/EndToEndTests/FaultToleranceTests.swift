import Foundation
import TestSupport
import XCTest

/// Kill a worker, kill the coordinator: the run completes and its tables equal an undisturbed
/// run's (the smoke preset, real processes, real sockets on loopback).
final class FaultToleranceTests: XCTestCase {
    struct Status: Decodable {
        struct Running: Decodable { var label: String; var worker: String }
        var total: Int
        var done: Int
        var running: Int
        var failed: Int
        var runningTasks: [Running]
        var finished: Bool
    }

    /// The smoke preset with fine-tunes long enough (a few seconds each) to be killed mid-way.
    static let config: URL = {
        let url = CLI.tempDir("ftcfg").appendingPathComponent("slow-smoke.yaml")
        try? "preset: smoke\nname: slow-smoke\ntraining: {epochs: 24, checkpoint_every: 4}\nlime: {enabled: false}\n"
            .write(to: url, atomically: true, encoding: .utf8)
        return url
    }()

    /// Tables of an undisturbed local run, computed once per test process.
    static var reference: [String: String]?
    func referenceTables() throws -> [String: String] {
        if let r = FaultToleranceTests.reference { return r }
        let dir = try makeTemporaryDirectory("seafold-e2e-ref")
        let r = try CLI.run(["run", "--config", Self.config.path, "--run-dir", dir.path, "--local"], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        var out: [String: String] = [:]
        for t in ["table1.csv", "table2.csv", "table3.csv"] {
            out[t] = try String(contentsOf: dir.appendingPathComponent("report/tables/\(t)"), encoding: .utf8)
        }
        FaultToleranceTests.reference = out
        return out
    }

    func status(_ dir: URL) -> Status? {
        guard let r = try? CLI.run(["status", "--run-dir", dir.path, "--json"], timeout: 30), r.status == 0 else { return nil }
        return try? JSONDecoder().decode(Status.self, from: Data(r.stdout.utf8))
    }

    func assertTablesEqualReference(_ dir: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let ref = try referenceTables()
        for (name, text) in ref {
            let got = try String(contentsOf: dir.appendingPathComponent("report/tables/\(name)"), encoding: .utf8)
            XCTAssertEqual(got, text, "\(name) differs from the undisturbed run", file: file, line: line)
        }
    }

    func worker(_ name: String, port: Int, dir: URL) throws -> Process {
        try CLI.start(["worker", "--connect", "tcp://127.0.0.1:\(port)", "--name", name, "--cache", dir.appendingPathComponent("cache-\(name)").path],
                      log: dir.appendingPathComponent("\(name).log"))
    }

    func testWorkerKilledMidFineTune() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-killworker")
        let port = CLI.freePort()
        let run = dir.appendingPathComponent("run")
        let coord = try CLI.start(["coordinator", "--config", Self.config.path, "--run-dir", run.path, "--bind", "tcp://127.0.0.1:\(port)", "--insecure"],
                                  log: dir.appendingPathComponent("coordinator.log"))
        let w1 = try worker("w1", port: port, dir: dir)
        let w2 = try worker("w2", port: port, dir: dir)
        defer { for p in [coord, w1, w2] where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        // Wait until w1 runs a fine-tune, then kill it without warning.
        let found = waitUntil(240, every: 0.1) {
            (self.status(run)?.runningTasks ?? []).contains { $0.worker.contains("w1") && $0.label.hasPrefix("finetune") }
        }
        XCTAssertTrue(found, "w1 never ran a fine-tune")
        kill(w1.processIdentifier, SIGKILL)
        w1.waitUntilExit()
        XCTAssertTrue(waitUntil(600, every: 0.1) { !coord.isRunning }, "the coordinator did not finish")
        XCTAssertEqual(coord.terminationStatus, 0)
        let s = try XCTUnwrap(status(run))
        XCTAssertEqual(s.done, s.total)
        XCTAssertEqual(s.failed, 0)
        try assertTablesEqualReference(run)
    }

    func testCoordinatorKilledAndRestarted() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-killcoord")
        let port = CLI.freePort()
        let run = dir.appendingPathComponent("run")
        let args = ["coordinator", "--config", Self.config.path, "--run-dir", run.path, "--bind", "tcp://127.0.0.1:\(port)", "--insecure"]
        let c1 = try CLI.start(args, log: dir.appendingPathComponent("coordinator1.log"))
        let w1 = try worker("w1", port: port, dir: dir)
        let w2 = try worker("w2", port: port, dir: dir)
        var c2: Process?
        defer { for p in [c1, w1, w2] + (c2.map { [$0] } ?? []) where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        XCTAssertTrue(waitUntil(240, every: 0.1) { (self.status(run)?.done ?? 0) >= 4 }, "no progress before the kill")
        kill(c1.processIdentifier, SIGKILL)
        c1.waitUntilExit()
        let doneBefore = status(run)?.done ?? 0
        c2 = try CLI.start(args, log: dir.appendingPathComponent("coordinator2.log"))
        XCTAssertTrue(waitUntil(600, every: 0.1) { !(c2!.isRunning) }, "the restarted coordinator did not finish")
        XCTAssertEqual(c2!.terminationStatus, 0)
        let s = try XCTUnwrap(status(run))
        XCTAssertEqual(s.done, s.total)
        XCTAssertGreaterThanOrEqual(s.done, doneBefore)
        try assertTablesEqualReference(run)
    }
}

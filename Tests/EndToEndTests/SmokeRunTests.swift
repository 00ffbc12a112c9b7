import Foundation
import TestSupport
import XCTest

/// The real CLI on the smoke preset: real processes, real sockets.
final class SmokeRunTests: XCTestCase {
    /// The tidy CSV of Table 1 of a finished run (what a researcher would compare).
    func table(_ run: URL, _ name: String = "table1.csv") throws -> String {
        try String(contentsOf: run.appendingPathComponent("report/tables/\(name)"), encoding: .utf8)
    }

    func testDistributedSmokeRunEqualsLocalRun() throws {
        let dist = try makeTemporaryDirectory("seafold-e2e-dist"), local = try makeTemporaryDirectory("seafold-e2e-local")
        let a = try CLI.run(["run", "--preset", "smoke", "--run-dir", dist.path, "--workers", "2"], timeout: 600)
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertTrue(a.stdout.contains("Table 1"), a.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dist.appendingPathComponent("report/index.html").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dist.appendingPathComponent("ledger.sqlite").path))

        let b = try CLI.run(["run", "--preset", "smoke", "--run-dir", local.path, "--local"], timeout: 600)
        XCTAssertEqual(b.status, 0, b.stderr)
        // Same config and seed: the same numbers, whichever executor and worker ran each task.
        for t in ["table1.csv", "table2.csv", "table3.csv"] {
            XCTAssertEqual(try table(dist, t), try table(local, t), t)
        }
        // A rerun of the report is byte-identical.
        let before = try table(dist)
        let r = try CLI.run(["report", "--run-dir", dist.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try table(dist), before)
    }

    func testBadConfigIsAClearError() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-badcfg")
        let cfg = dir.appendingPathComponent("x.yaml")
        try "seed: 1\nfolds: 3\ntraining: {lr: fast}\ndatasets:\n  - {name: a, synthetic: multi-site}\n".write(to: cfg, atomically: true, encoding: .utf8)
        let r = try CLI.run(["run", "--config", cfg.path, "--run-dir", dir.appendingPathComponent("run").path, "--local"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("training.lr"), r.stderr)
        XCTAssertTrue(r.stderr.contains("line 3"), r.stderr)

        let u = try CLI.run(["run", "--no-such-flag"])
        XCTAssertNotEqual(u.status, 0)
        XCTAssertTrue(u.stderr.contains("no-such-flag"), u.stderr)
    }
}

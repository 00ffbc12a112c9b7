import Foundation
import TestSupport
import XCTest

/// `seafold report` works from RUN/plan.json and the stored results alone: with the frozen
/// config and the dataset packs gone it writes byte-identical tables and rebuilds nothing; a run
/// directory without a plan is a clear error, and `--rebuild-plan` makes the same plan again.
final class SavedPlanTests: XCTestCase {
    func tables(_ run: URL) throws -> [String: Data] {
        let dir = run.appendingPathComponent("report/tables")
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            out[name] = try Data(contentsOf: dir.appendingPathComponent(name))
        }
        return out
    }

    func assertSameTables(_ a: [String: Data], _ b: [String: Data], _ when: String, line: UInt = #line) {
        XCTAssertEqual(Set(a.keys), Set(b.keys), when, line: line)
        for (name, data) in a { XCTAssertTrue(b[name] == data, "\(when): \(name) differs", line: line) }
    }

    func testReportNeedsOnlyThePlanAndTheResults() throws {
        let fm = FileManager.default
        let run = CLI.tempDir("plan").appendingPathComponent("run")
        let aside = run.deletingLastPathComponent().appendingPathComponent("aside")
        defer { try? fm.removeItem(at: run.deletingLastPathComponent()) }
        let r = try CLI.run(["run", "--preset", "smoke", "--local", "--run-dir", run.path], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        let planURL = run.appendingPathComponent("plan.json")
        let plan = try Data(contentsOf: planURL)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: plan) as? [String: Any])
        XCTAssertEqual(object["format"] as? Int, 1)
        let taskDirs = try fm.contentsOfDirectory(atPath: run.appendingPathComponent("local").path).filter { !$0.hasPrefix(".") }
        XCTAssertEqual(Set(((object["tasks"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }), Set(taskDirs))
        let before = try tables(run)
        XCTAssertFalse(before.isEmpty)

        // No config, no packs, no old report: the tables come back byte for byte.
        try fm.createDirectory(at: aside, withIntermediateDirectories: true)
        try fm.moveItem(at: run.appendingPathComponent("experiment.yaml"), to: aside.appendingPathComponent("experiment.yaml"))
        try fm.moveItem(at: run.appendingPathComponent("datasets"), to: aside.appendingPathComponent("datasets"))
        try fm.removeItem(at: run.appendingPathComponent("report"))
        let again = try CLI.run(["report", "--run-dir", run.path], timeout: 120)
        XCTAssertEqual(again.status, 0, again.stderr)
        assertSameTables(before, try tables(run), "report from plan.json alone")
        XCTAssertFalse(fm.fileExists(atPath: run.appendingPathComponent("datasets").path), "report rebuilt the dataset packs")
        XCTAssertFalse(fm.fileExists(atPath: run.appendingPathComponent("experiment.yaml").path))

        // A run directory from before plans were saved: a clear error, not a crash.
        try fm.removeItem(at: planURL)
        let old = try CLI.run(["report", "--run-dir", run.path], timeout: 120)
        XCTAssertEqual(old.status, 1, "an error exit, not a crash: \(old.stderr)")
        XCTAssertTrue(old.stderr.contains(planURL.path), old.stderr)
        XCTAssertTrue(old.stderr.contains("--rebuild-plan"), old.stderr)

        // With its config back, --rebuild-plan plans it again: the same plan, the same tables.
        try fm.moveItem(at: aside.appendingPathComponent("experiment.yaml"), to: run.appendingPathComponent("experiment.yaml"))
        let rebuilt = try CLI.run(["report", "--run-dir", run.path, "--rebuild-plan"], timeout: 300)
        XCTAssertEqual(rebuilt.status, 0, rebuilt.stderr)
        XCTAssertEqual(try Data(contentsOf: planURL), plan, "the rebuilt plan differs from the saved one")
        assertSameTables(before, try tables(run), "report after --rebuild-plan")
    }

    /// A coordinator started, stopped and started again: it saves the plan, leaves it alone on
    /// resume, and given a changed config says what changed and keeps the old plan.
    func testCoordinatorSavesThePlanAndSaysWhatAChangedConfigChanges() throws {
        let dir = CLI.tempDir("plancoord")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run"), planURL = run.appendingPathComponent("plan.json")
        let first = dir.appendingPathComponent("first.yaml"), changed = dir.appendingPathComponent("changed.yaml")
        try "preset: smoke\nname: planned\nlime: {enabled: false}\n".write(to: first, atomically: true, encoding: .utf8)
        try "preset: smoke\nname: planned\nlime: {enabled: false}\ntraining: {epochs: 4}\n".write(to: changed, atomically: true, encoding: .utf8)

        /// Starts a coordinator on `run`, waits until it serves, stops it; its log.
        func serve(_ config: URL?, _ name: String) throws -> String {
            let log = dir.appendingPathComponent("\(name).log")
            let args = ["coordinator", "--run-dir", run.path, "--bind", "tcp://127.0.0.1:\(CLI.freePort())", "--insecure"]
                + (config.map { ["--config", $0.path] } ?? [])
            let p = try CLI.start(args, log: log)
            defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
            let text = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
            XCTAssertTrue(waitUntil(120, every: 0.1) { text().contains("serving at") || !p.isRunning }, name)
            XCTAssertTrue(p.isRunning, "\(name): the coordinator exited: \(text())")
            p.terminate()
            XCTAssertTrue(waitUntil(60, every: 0.1) { !p.isRunning }, "\(name): the coordinator did not stop")
            return text()
        }

        _ = try serve(first, "first")
        let saved = try Data(contentsOf: planURL)
        let resumed = try serve(nil, "resume")
        XCTAssertFalse(resumed.contains("plan of this config differs"), resumed)
        XCTAssertEqual(try Data(contentsOf: planURL), saved, "resuming with the same config rewrote the plan")

        let log = try serve(changed, "changed")
        XCTAssertTrue(log.contains("plan of this config differs from the one saved in \(planURL.path)"), log)
        XCTAssertTrue(log.contains("config training.epochs: 3 → 4"), log)
        XCTAssertTrue(log.contains("tasks added:"), log)
        XCTAssertEqual(try Data(contentsOf: run.appendingPathComponent("plan.previous.json")), saved)
        XCTAssertNotEqual(try Data(contentsOf: planURL), saved)
    }
}

import Foundation
import TestSupport
import XCTest

/// What a researcher sees while a run goes: progress lines in a captured log, a status line on
/// a terminal that never reaches stdout, `seafold status` for local and distributed runs, log
/// levels and JSON logs, and a mistyped subcommand.
final class ProgressAndStatusTests: XCTestCase {
    /// "2026-12-06T03:50:01Z seafold: started …"
    static let stamped = try! NSRegularExpression(pattern: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ seafold: (\w+) "#, options: [.anchorsMatchLines])

    static func events(_ text: String) -> [String: Int] {
        var n: [String: Int] = [:]
        for m in stamped.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            n[String(text[Range(m.range(at: 1), in: text)!]), default: 0] += 1
        }
        return n
    }

    static func statusJSON(_ run: URL, _ extra: [String] = []) throws -> [String: Any] {
        let r = try CLI.run(["status", "--run-dir", run.path, "--json"] + extra, timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
    }

    /// A local run with its output going to files (as under SLURM or docker): one timestamped
    /// line per task start and end, a final summary, nothing on stdout but the results; then
    /// `seafold status` reads the local run directory, with filters.
    func testLocalRunLogsTimestampedProgressAndStatusReadsIt() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-localprog")
        let r = try CLI.run(["run", "--preset", "smoke", "--local", "--run-dir", dir.path, "--progress-interval", "1"], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        let st = try Self.statusJSON(dir)
        let total = try XCTUnwrap(st["total"] as? Int)
        XCTAssertEqual(st["executor"] as? String, "local")
        XCTAssertEqual(st["done"] as? Int, total)
        XCTAssertEqual(st["finished"] as? Bool, true)
        let ev = Self.events(r.stderr)
        XCTAssertEqual(ev["started"], total, r.stderr)
        XCTAssertEqual(ev["done"], total, r.stderr)
        XCTAssertEqual(ev["finished"], 1, r.stderr)
        XCTAssertNil(ev["failed"])
        XCTAssertTrue(r.stderr.contains("finished \(total)/\(total) done"), r.stderr)
        XCTAssertFalse(r.stderr.contains("\r"), "a carriage-return status line in a log file")
        XCTAssertEqual(Self.events(r.stdout), [:], "progress on stdout")
        // Summary lines say what their ETA rests on.
        for line in r.stderr.split(separator: "\n") where line.contains("seafold: progress ") {
            XCTAssertTrue(line.contains("ETA unknown (") || line.contains("measured") || line.contains("nothing left"), String(line))
        }

        // The per-task table of the local run, and its filters.
        let tasks = try XCTUnwrap(st["tasks"] as? [[String: Any]])
        XCTAssertEqual(tasks.count, total)
        let finetunes = tasks.filter { $0["kind"] as? String == "finetune" }
        XCTAssertFalse(finetunes.isEmpty)
        for t in finetunes {
            XCTAssertNotNil(t["dataset"] as? String); XCTAssertNotNil(t["fold"] as? Int); XCTAssertNotNil(t["epochs"] as? Int)
            XCTAssertNotNil(t["loss"] as? Double, "a done fine-tune has a loss")
        }
        let text = try CLI.run(["status", "--run-dir", dir.path, "--kind", "finetune", "--fold", "1"], timeout: 60)
        XCTAssertEqual(text.status, 0, text.stderr)
        let lines = text.stdout.split(separator: "\n")
        let header = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("ID ") }, text.stdout)
        for col in ["KIND", "DATASET", "VARIANT", "FOLD", "HEAD", "STATE", "WORKER", "ATT", "EPOCHS", "LOSS", "TIME"] {
            XCTAssertTrue(lines[header].contains(col), String(lines[header]))
        }
        let rows = lines[(header + 1)...].filter { !$0.hasPrefix("  failed") }
        XCTAssertEqual(rows.count, finetunes.filter { $0["fold"] as? Int == 1 }.count, text.stdout)
        for row in rows { XCTAssertTrue(row.contains(" finetune ") && row.contains(" done "), String(row)) }
    }

    /// `--json` under a terminal (util-linux `script` gives the command a pseudo-terminal; its
    /// stdout goes to a file as in `seafold run --json > o.json`): the file is valid JSON, and
    /// the status line went to the terminal. The coordinator's status line used to go to
    /// stdout, into the JSON.
    func testJSONStaysValidUnderATerminal() throws {
        let script = URL(fileURLWithPath: "/usr/bin/script")
        guard FileManager.default.isExecutableFile(atPath: script.path) else { throw XCTSkip("no /usr/bin/script (util-linux) for a pseudo-terminal") }
        let dir = try makeTemporaryDirectory("seafold-e2e-ptyjson")
        let out = dir.appendingPathComponent("o.json")
        let command = "'\(try CLI.require().path)' run --preset smoke --workers 1 --run-dir '\(dir.appendingPathComponent("run").path)' --json > '\(out.path)'"
        let p = try ChildProcess.run(script, ["-qec", command, "/dev/null"], timeout: 600, mergingStderr: true,
                                     input: FileHandle.nullDevice)
        if p.timedOut { XCTFail("timed out") }
        let seen = p.stdout
        XCTAssertEqual(p.status, 0, seen)
        let data = try Data(contentsOf: out)
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: data), String(decoding: data.prefix(400), as: UTF8.self))
        XCTAssertTrue(seen.contains("\r"), "no status line on the terminal: \(seen.suffix(500))")
        XCTAssertTrue(seen.contains(" done"), String(seen.suffix(500)))
    }

    /// A distributed run with failed tasks, all output to one file: failure lines in the log;
    /// `seafold status` shows the per-task table whose ids `seafold retry --task` accepts; the
    /// clock of a run nobody serves stands still; `--watch` on a settled run draws the table once.
    func testStatusTableIDsAreAcceptedByRetry() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-statusids")
        let cfg = try LifecycleAndIdentityTests.failingConfig(dir)
        let run = dir.appendingPathComponent("run"), log = dir.appendingPathComponent("run.log")
        let p = try CLI.start(["run", "--config", cfg.path, "--run-dir", run.path, "--workers", "1"], log: log)
        XCTAssertTrue(waitUntil(600, every: 0.1) { !p.isRunning })
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 3)
        let text = try String(contentsOf: log, encoding: .utf8)
        let ev = Self.events(text)
        XCTAssertGreaterThan(ev["failed"] ?? 0, 0, text)
        XCTAssertGreaterThanOrEqual(ev["started"] ?? 0, ev["failed"] ?? 0, text)
        XCTAssertEqual(ev["finished"], 1, text)

        let r = try CLI.run(["status", "--run-dir", run.path, "--state", "failed"], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let header = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("ID ") }, r.stdout)
        let ids = lines[(header + 1)...].filter { !$0.hasPrefix("  ") }.map { String($0.split(separator: " ")[0]) }
        XCTAssertFalse(ids.isEmpty, r.stdout)
        let st = try Self.statusJSON(run)
        let failures = try XCTUnwrap(st["failures"] as? [String: Any])
        XCTAssertEqual(ids.count, failures.count)
        for id in ids {
            XCTAssertLessThan(id.count, 32, "the table shows full ids: \(id)")
            XCTAssertEqual(failures.keys.filter { $0.hasPrefix(id) }.count, 1, id)
            let retry = try CLI.run(["retry", "--run-dir", run.path, "--task", id], timeout: 60)
            XCTAssertEqual(retry.status, 0, "retry rejects the id status printed: \(id): \(retry.stderr)")
        }

        // Nobody serves the run: its elapsed time stands still.
        let e1 = try XCTUnwrap(st["elapsed"] as? Double)
        usleep(1_200_000)
        XCTAssertEqual(try XCTUnwrap(try Self.statusJSON(run)["elapsed"] as? Double), e1)

        let watch = try CLI.run(["status", "--run-dir", run.path, "--watch", "--interval", "0.2"], timeout: 60)
        XCTAssertEqual(watch.status, 0, watch.stderr)
        XCTAssertEqual(watch.stdout.components(separatedBy: "\nID ").count, 2, "one table for a settled run: \(watch.stdout)")
        XCTAssertTrue(watch.stdout.contains(" failed "), watch.stdout)
    }

    /// `--log-format json --log-level debug`: every stderr line of the run and of its local
    /// worker is a JSON object with timestamp, level, label and message; bad values are errors
    /// naming the flag or the environment variable; `--verbose` is accepted.
    func testJSONLogsAndLogLevels() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-jsonlog")
        let run = dir.appendingPathComponent("run")
        let r = try CLI.run(["run", "--preset", "smoke", "--workers", "1", "--run-dir", run.path, "--log-format", "json", "--log-level", "debug"], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        let worker = (try? String(contentsOf: run.appendingPathComponent("logs/worker-1.log"), encoding: .utf8)) ?? ""
        var labels = Set<String>(), levels = Set<String>()
        for (name, text) in [("run", r.stderr), ("worker", worker)] {
            let lines = text.split(separator: "\n").filter { !$0.isEmpty }
            XCTAssertFalse(lines.isEmpty, name)
            for line in lines {
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { XCTFail("\(name): not JSON: \(line)"); continue }
                for k in ["timestamp", "level", "label", "message"] { XCTAssertNotNil(obj[k], "\(name): \(k) missing in \(line)") }
                labels.insert(obj["label"] as? String ?? ""); levels.insert(obj["level"] as? String ?? "")
            }
        }
        XCTAssertTrue(labels.contains("seafold.worker"), "\(labels)")
        XCTAssertTrue(labels.contains("seafold.progress"), "\(labels)")

        let bad = try CLI.run(["run", "--preset", "smoke", "--log-level", "loud"], timeout: 60)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--log-level 'loud'"), bad.stderr)
        let env = try CLI.run(["run", "--preset", "smoke", "--run-dir", dir.appendingPathComponent("x").path], timeout: 60, env: ["SEAFOLD_LOG_FORMAT": "xml"])
        XCTAssertNotEqual(env.status, 0)
        XCTAssertTrue(env.stderr.contains("SEAFOLD_LOG_FORMAT 'xml'"), env.stderr)
        // --verbose is a known flag (the error is about the preset, not the flag).
        let verbose = try CLI.run(["run", "--verbose", "--preset", "nosuch"], timeout: 60)
        XCTAssertNotEqual(verbose.status, 0)
        XCTAssertTrue(verbose.stderr.contains("unknown preset"), verbose.stderr)
    }

    /// A mistyped subcommand is reported as unknown, with the list (it printed `run`'s usage).
    func testMistypedSubcommandIsNamed() throws {
        let r = try CLI.run(["stauts", "--run-dir", "/tmp"], timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("unknown subcommand 'stauts'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("Did you mean 'status'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("coordinator") && r.stderr.contains("retry"), r.stderr)
        XCTAssertFalse(r.stderr.contains("--max-worker-restarts"), "run's usage: \(r.stderr)")
        // Options alone still go to `run`, the default subcommand.
        let d = try CLI.run(["--preset", "nosuch"], timeout: 60)
        XCTAssertNotEqual(d.status, 0)
        XCTAssertTrue(d.stderr.contains("unknown preset"), d.stderr)
    }

    /// The ETA and the clock of `seafold status`, from a local run's state file written here:
    /// values computed by hand. The run's process is gone (no such pid), so its clock stops
    /// at its last write (t = 1100, started at 1000).
    func testETAFromMeasuredEpochsAndTasksPerKind() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-eta")
        func row(_ id: String, _ kind: String, _ state: String, epochs: Int? = nil, fraction: Double = 0, start: Double? = nil, end: Double? = nil) -> [String: Any] {
            var r: [String: Any] = ["id": id, "kind": kind, "label": "\(kind) \(id)", "state": state, "attempts": start == nil ? 0 : 1,
                                    "fraction": fraction, "message": ""]
            if let epochs { r["epochs"] = epochs }
            if let start { r["startedAt"] = start }
            if let end { r["endedAt"] = end }
            return r
        }
        func write(_ rows: [[String: Any]]) throws {
            let state: [String: Any] = ["startedAt": 1000.0, "updatedAt": 1100.0, "pid": Int32.max, "tasks": rows]
            try JSONSerialization.data(withJSONObject: state).write(to: dir.appendingPathComponent("local-status.json"))
        }
        // Fine-tunes: 8 s and 12 s for 4 epochs each, and a running one 6 s into it with 2 of
        // its 4 epochs done: 26 s / 10 epochs = 2.6 s an epoch. Heads: 1 s a task.
        // Left: the running one 4 × 2.6 − 6 = 4.4, the pending one 10.4, a head 1: 15.8 s.
        try write([row("aa11", "finetune", "done", epochs: 4, fraction: 1, start: 1000, end: 1008),
                   row("bb22", "finetune", "done", epochs: 4, fraction: 1, start: 1008, end: 1020),
                   row("cc33", "finetune", "running", epochs: 4, fraction: 0.5, start: 1094),
                   row("dd44", "finetune", "pending", epochs: 4),
                   row("ee55", "heads", "done", start: 1020, end: 1021),
                   row("ff66", "heads", "pending")])
        var st = try Self.statusJSON(dir)
        XCTAssertEqual(try XCTUnwrap(st["eta"] as? Double), 15.8, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(st["elapsed"] as? Double), 100, accuracy: 1e-9)
        let text = try XCTUnwrap(st["etaText"] as? String)
        XCTAssertTrue(text.hasPrefix("ETA 16s (") && text.contains("10 finetune epochs") && text.contains("1 heads task"), text)

        // Without the done head, heads have no rate yet: the rest is a lower bound that says so.
        try write([row("aa11", "finetune", "done", epochs: 4, fraction: 1, start: 1000, end: 1008),
                   row("dd44", "finetune", "pending", epochs: 4), row("ff66", "heads", "pending")])
        st = try Self.statusJSON(dir)
        XCTAssertEqual(try XCTUnwrap(st["eta"] as? Double), 8, accuracy: 1e-9)
        XCTAssertTrue((st["etaText"] as? String ?? "").hasPrefix("ETA ≥ 8s (from 4 finetune epochs measured; heads not measured yet"), "\(st)")

        // Nothing measured: no figure.
        try write([row("dd44", "finetune", "pending", epochs: 4)])
        st = try Self.statusJSON(dir)
        XCTAssertNil(st["eta"])
        XCTAssertEqual(st["etaText"] as? String, "ETA unknown (no finetune task measured yet)")
    }
}

import Foundation
import TestSupport
import XCTest

/// The disk budget through the CLI: `seafold plan` prints it, `seafold run`/`coordinator`
/// refuse a run that cannot fit, and `seafold gc` frees what no task needs without changing
/// the report.
final class DiskTests: XCTestCase {
    func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    func int(_ v: Any?) -> Int64? { (v as? NSNumber)?.int64Value }

    func bytes(_ url: URL) -> Int64 {
        guard let e = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey]) else { return 0 }
        var total: Int64 = 0
        for case let f as URL in e {
            if let v = try? f.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey]), v.isRegularFile == true { total += Int64(v.fileSize ?? 0) }
        }
        return total
    }

    func testPlanPrintsTheDiskEstimate() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-plan")
        let r = try CLI.run(["plan", "--preset", "smoke", "--run-dir", dir.path, "--json", "--workers", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try json(r.stdout)
        XCTAssertEqual((out["tasks"] as? [Any])?.count, 85)
        let disk = try XCTUnwrap(out["disk"] as? [String: Any])
        let final = try XCTUnwrap(int(disk["finalBytes"])), peak = try XCTUnwrap(int(disk["peakBytes"]))
        let ckpt = try XCTUnwrap(int(disk["checkpointBytes"]))
        XCTAssertEqual(disk["workers"] as? Int, 3)
        XCTAssertEqual(peak, final + 3 * 2 * ckpt)
        XCTAssertEqual(int(disk["budgetBytes"]), final * 3 / 2)
        XCTAssertGreaterThan(int(disk["workerCacheBytes"]) ?? 0, ckpt)
        let t = try CLI.run(["plan", "--preset", "smoke", "--run-dir", dir.path])
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertTrue(t.stdout.contains("disk: final") && t.stdout.contains("peak") && t.stdout.contains("with 2 workers")
                      && t.stdout.contains("9 fine-tune weights"), t.stdout)
    }

    /// A run whose peak cannot fit fails before it starts, naming the path, the bytes and the
    /// ways out; nothing but the frozen config and the prepared packs is left behind.
    func testPreflightRefusesARunThatCannotFit() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-preflight")
        let env = ["SEAFOLD_DISK_AVAILABLE_BYTES": "100000"]
        for (i, args) in [["run", "--local"], ["coordinator", "--bind", "tcp://127.0.0.1:\(CLI.freePort())"]].enumerated() {
            let run = dir.appendingPathComponent("run\(i)")
            let r = try CLI.run(args + ["--preset", "smoke", "--run-dir", run.path], timeout: 120, env: env)
            XCTAssertNotEqual(r.status, 0, r.stdout)
            for s in ["not enough disk space", run.path, "100 kB available", "--run-dir", "--workers", "checkpoint_every: 0", "SEAFOLD_IGNORE_DISK_CHECK"] {
                XCTAssertTrue(r.stderr.contains(s), "'\(s)' missing from: \(r.stderr)")
            }
            for p in ["ledger.sqlite", "artifacts", "local", "logs", "report"] {
                XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent(p).path), p)
            }
        }
    }

    /// The same on a real 4 MiB file system (tmpfs): the packs fit, the run does not.
    func testPreflightOnATinyFileSystem() throws {
        guard getuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        let dir = try makeTemporaryDirectory("seafold-e2e-tmpfs")
        let mount = try ChildProcess.run(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=4m", "tmpfs", dir.path])
        guard mount.status == 0 else { throw XCTSkip("cannot mount a tmpfs here (no CAP_SYS_ADMIN in this container)") }
        defer { _ = try? ChildProcess.run(URL(fileURLWithPath: "/bin/umount"), [dir.path]) }
        let run = dir.appendingPathComponent("run")
        let r = try CLI.run(["run", "--local", "--preset", "smoke", "--run-dir", run.path], timeout: 120)
        XCTAssertNotEqual(r.status, 0, r.stdout)
        XCTAssertTrue(r.stderr.contains("not enough disk space") && r.stderr.contains(run.path), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("local").path))
    }

    /// A real distributed smoke run: checkpoints reached the coordinator and none outlived its
    /// task (the coordinator deletes them), the finished run directory is within ±25 % of the
    /// final estimate, gc keeps away while a coordinator holds the lock, then frees an old
    /// orphan without changing a single table.
    func testGCOnARealSmokeRunKeepsTheReport() throws {
        let run = try makeTemporaryDirectory("seafold-e2e-gc")
        let r = try CLI.run(["run", "--preset", "smoke", "--run-dir", run.path, "--workers", "2"], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        let tables = run.appendingPathComponent("report/tables")
        let names = try FileManager.default.contentsOfDirectory(atPath: tables.path).sorted()
        XCTAssertFalse(names.isEmpty)
        let before = try names.map { try Data(contentsOf: tables.appendingPathComponent($0)) }

        let p = try CLI.run(["plan", "--preset", "smoke", "--run-dir", run.path, "--json"])
        XCTAssertEqual(p.status, 0, p.stderr)
        let disk = try XCTUnwrap(try json(p.stdout)["disk"] as? [String: Any])
        let final = try XCTUnwrap(int(disk["finalBytes"]))
        let events0 = try String(contentsOf: run.appendingPathComponent("events.jsonl"), encoding: .utf8)
        XCTAssertTrue(events0.contains("\"kind\":\"checkpoint\""), "checkpoints reached the coordinator")

        // Nothing for gc to find but what the test plants: the coordinator deleted every
        // checkpoint once its task's result was durable.
        let clean = try json(try CLI.run(["gc", "--run-dir", run.path, "--dry-run", "--json"]).stdout)
        XCTAssertEqual((clean["deletions"] as? [[String: Any]])?.count, 0, "\(clean)")

        // The finished run (local workers' caches and logs aside) against the model's final size.
        let kept = bytes(run) - bytes(run.appendingPathComponent("cache")) - bytes(run.appendingPathComponent("logs"))
        let ratio = Double(final) / Double(kept)
        XCTAssertTrue((0.75...1.25).contains(ratio), "model \(final) bytes, run directory \(kept) bytes (ratio \(ratio))")

        // An orphan two hours old (no task refers to it).
        let orphanBytes = Data("orphan".utf8)
        let hash = String(repeating: "ab", count: 32)  // any sha256-shaped name; no task refers to it
        let orphan = run.appendingPathComponent("artifacts/\(hash.prefix(2))/\(hash)")
        try FileManager.default.createDirectory(at: orphan.deletingLastPathComponent(), withIntermediateDirectories: true)
        try orphanBytes.write(to: orphan)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: orphan.path)

        // A live coordinator (holding the lock): a dry run only, whatever was asked.
        let lockPath = run.appendingPathComponent("coordinator.lock").path
        let fd = open(lockPath, O_CREAT | O_RDWR, 0o600)
        XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0)
        let live = try CLI.run(["gc", "--run-dir", run.path, "--json"])
        close(fd)
        XCTAssertEqual(live.status, 0, live.stderr)
        let l = try json(live.stdout)
        XCTAssertEqual(l["coordinatorLive"] as? Bool, true)
        XCTAssertEqual(l["dryRun"] as? Bool, true)
        XCTAssertTrue(FileManager.default.fileExists(atPath: orphan.path))

        let g = try CLI.run(["gc", "--run-dir", run.path])
        XCTAssertEqual(g.status, 0, g.stderr)
        XCTAssertTrue(g.stdout.contains("freed"), g.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: orphan.path))
        let events = try String(contentsOf: run.appendingPathComponent("events.jsonl"), encoding: .utf8)
        XCTAssertTrue(events.contains("\"kind\":\"gc\""), events.suffix(400).description)

        // The report from what is left: the same tables, byte for byte.
        let rep = try CLI.run(["report", "--run-dir", run.path])
        XCTAssertEqual(rep.status, 0, rep.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tables.path).sorted(), names)
        for (n, b) in zip(names, before) { XCTAssertEqual(try Data(contentsOf: tables.appendingPathComponent(n)), b, n) }

        let again = try CLI.run(["gc", "--run-dir", run.path, "--json"])
        XCTAssertEqual(int(try json(again.stdout)["freedBytes"]), 0)
    }

    /// `seafold run --local` leaves each fine-tune's last checkpoint and, after a crash, a
    /// scratch directory: gc removes both (a scratch directory only once it is stale), and the
    /// report stays the same.
    func testGCOnALocalRun() throws {
        let run = try makeTemporaryDirectory("seafold-e2e-gc-local")
        let r = try CLI.run(["run", "--preset", "smoke", "--run-dir", run.path, "--local"], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        let fm = FileManager.default
        let local = run.appendingPathComponent("local")
        let ids = try fm.contentsOfDirectory(atPath: local.path)
        let checkpoints = ids.map { local.appendingPathComponent("\($0)/checkpoints/latest.safetensors") }.filter { fm.fileExists(atPath: $0.path) }
        XCTAssertEqual(checkpoints.count, 9)
        // Scratch left by a crashed task two hours ago, and one in use.
        let stale = local.appendingPathComponent("\(ids[0])/scratch"), fresh = local.appendingPathComponent("\(ids[1])/scratch")
        for d in [stale, fresh] {
            try fm.createDirectory(at: d, withIntermediateDirectories: true)
            try Data(count: 1000).write(to: d.appendingPathComponent("checkpoint-1.safetensors"))
        }
        let old = Date().addingTimeInterval(-7200)
        for path in [stale.appendingPathComponent("checkpoint-1.safetensors").path, stale.path] {
            try fm.setAttributes([.modificationDate: old], ofItemAtPath: path)
        }
        let tables = run.appendingPathComponent("report/tables")
        let names = try fm.contentsOfDirectory(atPath: tables.path).sorted()
        let before = try names.map { try Data(contentsOf: tables.appendingPathComponent($0)) }

        let g = try CLI.run(["gc", "--run-dir", run.path, "--json"])
        XCTAssertEqual(g.status, 0, g.stderr)
        let kinds = try XCTUnwrap(try json(g.stdout)["deletions"] as? [[String: Any]]).map { $0["kind"] as? String ?? "" }
        XCTAssertEqual(kinds.filter { $0 == "checkpoint of a done task" }.count, 9, "\(kinds)")
        XCTAssertEqual(kinds.filter { $0 == "scratch leftover" }.count, 1, "\(kinds)")
        for c in checkpoints { XCTAssertFalse(fm.fileExists(atPath: c.path), c.path) }
        XCTAssertFalse(fm.fileExists(atPath: stale.path))
        XCTAssertTrue(fm.fileExists(atPath: fresh.path))

        let rep = try CLI.run(["report", "--run-dir", run.path])
        XCTAssertEqual(rep.status, 0, rep.stderr)
        for (n, b) in zip(names, before) { XCTAssertEqual(try Data(contentsOf: tables.appendingPathComponent(n)), b, n) }
    }
}

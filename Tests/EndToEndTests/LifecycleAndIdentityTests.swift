import CZeroMQ
import Foundation
import TestSupport
import XCTest

/// The real binary's process lifecycle, identity and authentication: what `seafold run` and
/// `seafold coordinator` do with failed tasks, dead or orphaned workers, strangers on the
/// socket, same-named workers in containers, bad configs and missing run directories.
final class LifecycleAndIdentityTests: XCTestCase {
    // MARK: /proc helpers

    /// Direct children of `pid` whose command line contains `word`.
    static func children(of pid: Int32, containing word: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == pid else { return false }
            let cmd = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(child)/cmdline"))) ?? Data()
            return String(decoding: cmd.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(word)
        }
    }

    /// Running (exists and is not a zombie).
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    static func events(_ run: URL) -> [[String: Any]] {
        let text = (try? String(contentsOf: run.appendingPathComponent("events.jsonl"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// The smoke preset with weights that cannot be read: every task needing them fails fast.
    static func failingConfig(_ dir: URL) throws -> URL {
        let weights = dir.appendingPathComponent("garbage.safetensors")
        try Data("this is not a safetensors file".utf8).write(to: weights)
        let cfg = dir.appendingPathComponent("failing.yaml")
        try "preset: smoke\nname: failing\npretrained: \(weights.path)\nlime: {enabled: false}\n".write(to: cfg, atomically: true, encoding: .utf8)
        return cfg
    }

    // MARK: item: worker ids in containers

    /// The shipped manifests run every worker replica as PID 1 with `--name worker`. Two such
    /// workers, each in its own PID namespace, against one coordinator (key-less, so it makes
    /// RUN/keys, which the workers use like the manifests' secrets): no evictions, no stale
    /// results, the run completes. With NAME-PID ids both were `worker-1` and evicted each other.
    func testSameNamedWorkersInSeparatePIDNamespacesDoNotEvictEachOther() throws {
        // Needs root: `unshare --pid --fork --mount-proc` makes each worker PID 1 of a new namespace.
        guard getuid() == 0 else { throw XCTSkip("needs root to run workers in their own PID namespaces (unshare --pid --mount-proc)") }
        let bin = try CLI.require()
        let dir = try makeTemporaryDirectory("seafold-e2e-pidns")
        let run = dir.appendingPathComponent("run"), port = CLI.freePort()
        let coord = try CLI.start(["coordinator", "--preset", "smoke", "--run-dir", run.path, "--bind", "tcp://127.0.0.1:\(port)"],
                                  log: dir.appendingPathComponent("coordinator.log"))
        var workers: [Process] = []
        defer { for p in [coord] + workers where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let keys = run.appendingPathComponent("keys")
        guard waitUntil(120, every: 0.1, { FileManager.default.fileExists(atPath: keys.appendingPathComponent("workers/worker.pub").path) }) else {
            return XCTFail("the key-less coordinator made no RUN/keys")
        }
        for i in 1...2 {
            let p = try ChildProcess.start(URL(fileURLWithPath: "/usr/bin/unshare"),
                                           ["--pid", "--fork", "--mount-proc", bin.path, "worker", "--connect", "tcp://127.0.0.1:\(port)",
                                            "--keys", keys.path, "--name", "worker", "--cache", dir.appendingPathComponent("cache-\(i)").path],
                                           log: dir.appendingPathComponent("worker-\(i).log"))
            workers.append(p)
        }
        // (terminationStatus of a running Process traps: every wait is checked before it is read.)
        guard waitUntil(600, every: 0.1, { !coord.isRunning }) else { return XCTFail("the run did not complete") }
        XCTAssertEqual(coord.terminationStatus, 0, (try? String(contentsOf: dir.appendingPathComponent("coordinator.log"), encoding: .utf8)) ?? "")
        let ev = Self.events(run)
        let kinds = ev.compactMap { $0["kind"] as? String }
        XCTAssertEqual(kinds.filter { $0 == "worker-reconnected" }.count, 0, "workers evicted each other")
        XCTAssertEqual(kinds.filter { $0 == "stale" }.count, 0, "stale results")
        let joined = Set(ev.filter { ($0["kind"] as? String) == "worker-joined" }.compactMap { $0["worker"] as? String })
        XCTAssertEqual(joined.count, 2, "\(joined)")
        XCTAssertTrue(joined.allSatisfy { $0.hasPrefix("worker-") }, "\(joined)")
        guard waitUntil(60, every: 0.1, { workers.allSatisfy { !$0.isRunning } }) else { return XCTFail("the workers were not dismissed") }
        XCTAssertEqual(workers.map(\.terminationStatus), [0, 0])
    }

    // MARK: item: strangers on a `seafold run` socket

    /// A key-less DEALER from this process connects to a `seafold run` coordinator, says READY
    /// and sends a forged DONE: it receives nothing (no ASSIGN, not even a REFUSE), and the run
    /// completes without ever having seen it.
    func testRunCoordinatorIgnoresKeylessDealerAndItsForgedDone() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-stranger")
        let run = dir.appendingPathComponent("run"), log = dir.appendingPathComponent("run.log")
        let version = try CLI.run(["--version"], timeout: 60).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let p = try CLI.start(["run", "--preset", "smoke", "--run-dir", run.path, "--workers", "1"], log: log)
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        var endpoint: String?
        XCTAssertTrue(waitUntil(300, every: 0.1) {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            guard let r = text.range(of: "coordinator at ") else { return false }
            endpoint = text[r.upperBound...].split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }).first.map(String.init)
            return endpoint != nil
        })
        let ep = try XCTUnwrap(endpoint)
        let ctx = zmq_ctx_new()!
        let sock = zmq_socket(ctx, ZMQ_DEALER)!
        defer { zmq_close(sock); zmq_ctx_term(ctx) }
        var linger: Int32 = 0
        zmq_setsockopt(sock, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
        XCTAssertEqual(zmq_connect(sock, ep), 0)
        func send(_ frames: [String]) {
            for (i, f) in frames.enumerated() { _ = zmq_send(sock, f, f.utf8.count, i < frames.count - 1 ? ZMQ_SNDMORE : ZMQ_DONTWAIT) }
        }
        send(["SEAFOLD/1", "READY", #"{"workerID":"intruder","codeVersion":"\#(version)","threads":1,"memoryBytes":1,"slots":1,"cached":[],"running":[],"host":"intruder"}"#])
        send(["SEAFOLD/1", "DONE", #"{"leaseToken":"\#(String(repeating: "0", count: 32))","artifacts":{}}"#, #"{"forged":99.9}"#])
        var received = 0
        var buf = [UInt8](repeating: 0, count: 4096)
        let quiet = Date().addingTimeInterval(5)
        while Date() < quiet && p.isRunning {
            var item = zmq_pollitem_t(socket: sock, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
            if zmq_poll(&item, 1, 100) > 0 { while zmq_recv(sock, &buf, buf.count, ZMQ_DONTWAIT) >= 0 { received += 1 } }
        }
        XCTAssertEqual(received, 0, "a key-less peer got frames from the coordinator")
        guard waitUntil(600, every: 0.1, { !p.isRunning }) else { return XCTFail("the run did not finish") }
        XCTAssertEqual(p.terminationStatus, 0, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
        let text = (try? String(contentsOf: run.appendingPathComponent("events.jsonl"), encoding: .utf8)) ?? ""
        XCTAssertFalse(text.contains("intruder"), "the ledger saw the stranger")
        XCTAssertTrue(Self.events(run).contains { ($0["kind"] as? String) == "worker-joined" })
    }

    // MARK: item: bad --config

    /// A bad config must not touch an existing run's frozen experiment.yaml, and must not leave
    /// a half-made new run directory behind.
    func testBadConfigLeavesExistingRunAloneAndCreatesNoRunDirectory() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-badcfg")
        let run = dir.appendingPathComponent("existing")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let frozen = "preset: smoke\nname: original\n"
        try frozen.write(to: run.appendingPathComponent("experiment.yaml"), atomically: true, encoding: .utf8)
        let missingData = dir.appendingPathComponent("missing-data.yaml")
        try "preset: smoke\nname: bad\ndatasets:\n  - {name: d, path: \(dir.path)/no-such-folder, variants: [balanced]}\n"
            .write(to: missingData, atomically: true, encoding: .utf8)
        let badType = dir.appendingPathComponent("bad-type.yaml")
        try "preset: smoke\nname: bad\ntraining: {epochs: many}\n".write(to: badType, atomically: true, encoding: .utf8)
        let missingWeights = dir.appendingPathComponent("missing-weights.yaml")
        try "preset: smoke\nname: bad\npretrained: \(dir.path)/none.safetensors\n".write(to: missingWeights, atomically: true, encoding: .utf8)
        for cfg in [missingData, badType, missingWeights] {
            let r = try CLI.run(["coordinator", "--config", cfg.path, "--run-dir", run.path, "--bind", "tcp://127.0.0.1:\(CLI.freePort())"], timeout: 120)
            XCTAssertNotEqual(r.status, 0, cfg.lastPathComponent)
            XCTAssertEqual(try String(contentsOf: run.appendingPathComponent("experiment.yaml"), encoding: .utf8), frozen, "\(cfg.lastPathComponent) overwrote the frozen config")
            XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("experiment.previous.yaml").path))
            let fresh = dir.appendingPathComponent("fresh-\(cfg.deletingPathExtension().lastPathComponent)")
            let r2 = try CLI.run(["run", "--config", cfg.path, "--run-dir", fresh.path, "--local"], timeout: 120)
            XCTAssertNotEqual(r2.status, 0)
            XCTAssertFalse(FileManager.default.fileExists(atPath: fresh.path), "\(cfg.lastPathComponent) left a half-made run directory")
        }
    }

    // MARK: item: process lifecycle

    /// Failed tasks make `seafold run` exit non-zero and name them (it exited 0).
    func testRunWithFailedTasksExitsNonZeroAndNamesThem() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-runfail")
        let cfg = try Self.failingConfig(dir)
        let r = try CLI.run(["run", "--config", cfg.path, "--run-dir", dir.appendingPathComponent("run").path, "--workers", "1"], timeout: 600)
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertTrue(r.stderr.contains("did not complete"), r.stderr)
        XCTAssertTrue(r.stderr.contains("finetune"), "the failed tasks are not named: \(r.stderr)")
    }

    /// Workers SIGKILLed again and again: `seafold run` restarts them a bounded number of times,
    /// then fails with a clear message (it used to wait for ever).
    func testRunGivesUpWhenItsWorkerKeepsDying() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-dying")
        let log = dir.appendingPathComponent("run.log")
        let p = try CLI.start(["run", "--preset", "smoke", "--run-dir", dir.appendingPathComponent("run").path, "--workers", "1",
                               "--max-worker-restarts", "2"], log: log)
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        var killed = Set<Int32>()
        let deadline = Date().addingTimeInterval(300)
        while p.isRunning && Date() < deadline {
            for c in Self.children(of: p.processIdentifier, containing: " worker --connect") where !killed.contains(c) {
                kill(c, SIGKILL); killed.insert(c)
            }
            usleep(50_000)
        }
        XCTAssertFalse(p.isRunning, "seafold run kept waiting for dead workers")
        p.waitUntilExit()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        XCTAssertNotEqual(p.terminationStatus, 0)
        XCTAssertTrue(text.contains("giving up"), text)
        XCTAssertEqual(killed.count, 3, "one start and two restarts")
    }

    /// SIGKILL or SIGTERM to `seafold run` takes its workers with it (they were reparented and
    /// reconnected for ever).
    func testWorkersDieWithTheirRun() throws {
        for sig in [SIGKILL, SIGTERM] {
            let dir = try makeTemporaryDirectory("seafold-e2e-orphans")
            let p = try CLI.start(["run", "--preset", "smoke", "--run-dir", dir.appendingPathComponent("run").path, "--workers", "2"],
                                  log: dir.appendingPathComponent("run.log"))
            var kids: [Int32] = []
            defer { for k in kids where Self.isAlive(k) { kill(k, SIGKILL) } }
            XCTAssertTrue(waitUntil(300, every: 0.1) {
                kids = Self.children(of: p.processIdentifier, containing: " worker --connect")
                return kids.count == 2
            }, "no workers started")
            kill(p.processIdentifier, sig)
            p.waitUntilExit()
            XCTAssertNotEqual(p.terminationStatus, 0)
            XCTAssertTrue(waitUntil(30, every: 0.1) { kids.allSatisfy { !Self.isAlive($0) } }, "workers outlived seafold run after signal \(sig)")
        }
    }

    /// A coordinator whose run settles with failed tasks writes the report, says so, and keeps
    /// serving (exiting 3 at once was a restart loop under `restart: on-failure`); status shows
    /// full task ids; SIGTERM then ends it with status 3.
    func testCoordinatorWithFailedTasksKeepsServingAndStatusShowsFullIDs() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-serveon")
        let cfg = try Self.failingConfig(dir)
        let run = dir.appendingPathComponent("run"), port = CLI.freePort(), log = dir.appendingPathComponent("coordinator.log")
        let coord = try CLI.start(["coordinator", "--config", cfg.path, "--run-dir", run.path, "--bind", "tcp://127.0.0.1:\(port)", "--insecure"], log: log)
        let w = try CLI.start(["worker", "--connect", "tcp://127.0.0.1:\(port)", "--name", "w", "--cache", dir.appendingPathComponent("cache").path],
                              log: dir.appendingPathComponent("worker.log"))
        defer { for p in [coord, w] where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        XCTAssertTrue(waitUntil(600, every: 0.1) { ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("still serving") || !coord.isRunning })
        XCTAssertTrue(coord.isRunning, "the coordinator exited although tasks failed: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("report").path), "no report before serving on")
        let json = try CLI.run(["status", "--run-dir", run.path, "--json"], timeout: 60)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let failures = try XCTUnwrap(obj["failures"] as? [String: Any])
        XCTAssertFalse(failures.isEmpty)
        let text = try CLI.run(["status", "--run-dir", run.path], timeout: 60).stdout
        for id in failures.keys { XCTAssertTrue(text.contains("failed \(id):"), "status does not show the full id \(id):\n\(text)") }
        kill(coord.processIdentifier, SIGTERM)
        coord.waitUntilExit()
        XCTAssertEqual(coord.terminationStatus, 3)
    }

    // MARK: item: missing run directories

    func testCommandsRefuseAMissingRunDirectory() throws {
        let missing = try makeTemporaryDirectory("seafold-e2e-gone").appendingPathComponent("does/not/exist")
        for cmd in ["status", "report"] {
            let r = try CLI.run([cmd, "--run-dir", missing.path], timeout: 60)
            XCTAssertNotEqual(r.status, 0, cmd)
            XCTAssertTrue(r.stderr.contains("does not exist"), "\(cmd): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: missing.path), "\(cmd) created the run directory")
        }
    }
}

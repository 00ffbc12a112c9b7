@testable import Cluster
import Foundation
import Logging
import TestSupport
import XCTest

/// Collects every log line (message and metadata) at trace level, for "secrets never logged".
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
    func logger(_ label: String) -> Logger {
        var l = Logger(label: label) { _ in CaptureHandler(sink: self) }
        l.logLevel = .trace
        return l
    }
}

struct CaptureHandler: LogHandler {
    let sink: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        sink.add("\(level) \(message) \(metadata ?? [:]) \(self.metadata)")
    }
}

func posixMode(_ path: String) -> Int? {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber).map { $0.intValue & 0o777 }
}

/// The security checklist of issue #10 that the other tests did not prove: owner-only files,
/// no secret key in any log or ledger, and no worker ending another worker's lease.
final class SecurityChecklistTests: XCTestCase {
    /// With a permissive umask (0), the run directory, ledger (and its WAL/SHM), events.jsonl,
    /// the artifact store, stored artifacts, key directory and secret keys are still owner-only.
    func testRunDirectoryAndKeyFilesAreOwnerOnlyEvenWithUmaskZero() throws {
        let old = umask(0)
        defer { umask(old) }
        let base = tempDir("perms")
        let run = base.appendingPathComponent("a/b/run")
        let c = try Coordinator(runDirectory: run, bind: "ipc://\(base.path)/c.sock", options: coordinatorOptions())
        let src = base.appendingPathComponent("in.bin")
        try Data("payload".utf8).write(to: src)
        let h = try c.importArtifact(src)
        try c.submit([TaskDescriptor(id: "T", kind: "fake", label: "T", spec: spec(FakeSpec(outputBytes: 1000)))])
        let opts = workerOptions(base, "w")
        startWorker(c.endpoint, opts, runner: fakeRunner(name: "w", log: ExecLog()))
        XCTAssertEqual(try runBounded(c).done, 1)
        let out = try XCTUnwrap(c.ledger.task("T")?.artifacts["out.bin"])

        var expect: [(String, Int)] = [
            (run.path, 0o700),
            (run.appendingPathComponent("ledger.sqlite").path, 0o600),
            (run.appendingPathComponent("events.jsonl").path, 0o600),
            (run.appendingPathComponent("artifacts").path, 0o700),
            (run.appendingPathComponent("artifacts/tmp").path, 0o700),
            (try c.store.path(for: h).deletingLastPathComponent().path, 0o700),
            (try c.store.path(for: h).path, 0o600),
            (try c.store.path(for: out).path, 0o600),
            (opts.cacheDirectory.path, 0o700),
        ]
        for side in ["-wal", "-shm"] {
            let p = run.appendingPathComponent("ledger.sqlite" + side).path
            if FileManager.default.fileExists(atPath: p) { expect.append((p, 0o600)) }
        }
        let keys = base.appendingPathComponent("keys/sub")
        try KeyFiles.generate(directory: keys, name: "coordinator")
        expect.append((keys.path, 0o700))
        expect.append((keys.appendingPathComponent("coordinator.key").path, 0o600))
        for (path, mode) in expect {
            XCTAssertEqual(posixMode(path).map { String($0, radix: 8) }, String(mode, radix: 8), path)
        }
        // Nothing in the run directory is readable or writable by group or others.
        let walker = FileManager.default.enumerator(atPath: run.path)
        while let rel = walker?.nextObject() as? String {
            let p = run.appendingPathComponent(rel).path
            if rel.hasSuffix(".sock") { continue }
            XCTAssertEqual((posixMode(p) ?? 0) & 0o077, 0, "\(rel) is mode \(String(posixMode(p) ?? 0, radix: 8))")
        }
    }

    /// Coordinator, an allow-listed worker and a stranger log at trace level through a full
    /// CURVE run; no secret key appears in any log line, in events.jsonl or in the ledger file,
    /// and a corrupt key file's error does not echo its contents.
    func testSecretKeysNeverLogged() throws {
        let dir = tempDir("nolog")
        let keys = dir.appendingPathComponent("keys"), allow = dir.appendingPathComponent("allow")
        let server = try KeyFiles.generate(directory: keys, name: "coordinator")
        let good = try KeyFiles.generate(directory: keys, name: "good")
        let stranger = try KeyFiles.generate(directory: keys, name: "stranger")
        try FileManager.default.createDirectory(at: allow, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: keys.appendingPathComponent("good.pub"), to: allow.appendingPathComponent("good.pub"))
        let captured = CapturedLog()

        var o = coordinatorOptions()
        o.curve = server; o.allowedKeysDirectory = allow
        o.logger = captured.logger("coordinator")
        let run = dir.appendingPathComponent("run")
        let c = try Coordinator(runDirectory: run, bind: "tcp://127.0.0.1:*", options: o)
        try c.submit([TaskDescriptor(id: "T", kind: "fake", label: "T", spec: spec(FakeSpec(failAttempts: 1)))])
        let ended = runInBackground(c)
        defer { c.stop(); _ = ended.wait(timeout: .now() + 5) }

        var so = workerOptions(dir, "stranger")
        so.curve = stranger; so.serverPublicKey = server.publicKey; so.giveUpAfter = 1
        so.logger = captured.logger("stranger")
        let (sw, sdone) = startWorker(c.endpoint, so, runner: fakeRunner(name: "stranger", log: ExecLog()))
        XCTAssertTrue(waitUntil(5) { (c.zap?.denied ?? 0) > 0 })
        sw.stop(); _ = sdone.wait(timeout: .now() + 5)

        var go = workerOptions(dir, "good")
        go.curve = good; go.serverPublicKey = server.publicKey
        go.logger = captured.logger("good")
        let (gw, _) = startWorker(c.endpoint, go, runner: fakeRunner(name: "good", log: ExecLog()))
        defer { gw.stop() }
        XCTAssertTrue(waitUntil(10) { (try? c.ledger.task("T")?.state) == .done })

        // A key file with a mangled secret: the error names the file, not its contents.
        let mangled = String(good.secretKey.dropLast()) + "~"
        let badKey = keys.appendingPathComponent("bad.key")
        try Data(mangled.utf8).write(to: badKey)
        var errorText = ""
        XCTAssertThrowsError(try KeyFiles.readKey(badKey)) { errorText = "\($0)" }
        XCTAssertTrue(errorText.contains(badKey.path), errorText)

        let lines = captured.all
        XCTAssertTrue(lines.contains { $0.contains("denied") }, "the stranger's denial was logged: \(lines)")
        let events = String(decoding: (try? Data(contentsOf: run.appendingPathComponent("events.jsonl"))) ?? Data(), as: UTF8.self)
        var ledgerBytes = Data()
        for f in ["ledger.sqlite", "ledger.sqlite-wal"] { ledgerBytes += (try? Data(contentsOf: run.appendingPathComponent(f))) ?? Data() }
        for (who, secret) in [("coordinator", server.secretKey), ("good", good.secretKey), ("stranger", stranger.secretKey), ("mangled", mangled)] {
            XCTAssertFalse(lines.contains { $0.contains(secret) }, "\(who)'s secret key appears in a log line")
            XCTAssertFalse(events.contains(secret), "\(who)'s secret key appears in events.jsonl")
            XCTAssertNil(ledgerBytes.range(of: Data(secret.utf8)), "\(who)'s secret key appears in the ledger")
            XCTAssertFalse(errorText.contains(secret), "\(who)'s secret key appears in an error")
        }
        // The public key of the stranger is logged (to be useful), and that is all.
        XCTAssertTrue(lines.contains { $0.contains(stranger.publicKey) })
    }

    /// Two workers each hold one lease. A DONE (or FAIL, or CHECKPOINT) from worker A carrying
    /// worker B's current lease token is rejected: B's task keeps running and B's own DONE wins.
    func testWorkerCannotOverwriteAnotherTasksResult() throws {
        let dir = tempDir("overwrite")
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: coordinatorOptions())
        try c.submit([TaskDescriptor(id: "A", kind: "fake", label: "A", spec: spec(FakeSpec())),
                      TaskDescriptor(id: "B", kind: "fake", label: "B", spec: spec(FakeSpec()))])
        let ended = runInBackground(c)
        defer { c.stop(); _ = ended.wait(timeout: .now() + 5) }
        let pa = try RawPeer(c.endpoint, id: "a#1"), pb = try RawPeer(c.endpoint, id: "b#1")
        try pa.ready("a")
        let la = try XCTUnwrap(try pa.expect(.assign)).decode(AssignHeader.self)
        try pb.ready("b")
        let lb = try XCTUnwrap(try pb.expect(.assign)).decode(AssignHeader.self)
        XCTAssertNotEqual(la.taskID, lb.taskID)
        // Keep both alive (heartbeats) while the attack runs.
        let hb = { try? pa.send(WireMessage(.heartbeat, Empty())); try? pb.send(WireMessage(.heartbeat, Empty())) }
        hb()

        // A forges B's lease: a result, a checkpoint and a failure.
        let blob = Data("forged checkpoint".utf8)
        let forgedCheckpoint = try c.store.put(blob)
        try pa.send(WireMessage(.checkpoint, CheckpointHeader(leaseToken: lb.leaseToken, sha256: forgedCheckpoint)))
        try pa.send(WireMessage(.done, DoneHeader(leaseToken: lb.leaseToken, artifacts: [:]), payload: [Data("forged".utf8)]))
        try pa.send(WireMessage(.fail, FailHeader(leaseToken: lb.leaseToken, error: "forged failure")))
        // A stranger who never sent READY tries too.
        let stranger = try RawPeer(c.endpoint, id: "x#1")
        try stranger.send(WireMessage(.done, DoneHeader(leaseToken: lb.leaseToken, artifacts: [:]), payload: [Data("forged 2".utf8)]))
        XCTAssertTrue(waitUntil(5) { ((try? c.ledger.events(kind: "rejected")) ?? []).count >= 3 }, "\((try? c.ledger.events()) ?? [])")
        hb()
        let b = try XCTUnwrap(c.ledger.task(lb.taskID))
        XCTAssertEqual(b.state, .running, "B is still running under its own lease")
        XCTAssertEqual(b.currentLease, lb.leaseToken)
        XCTAssertEqual(b.failures, 0)
        XCTAssertNil(b.checkpoint, "the forged checkpoint was not attached to B")
        XCTAssertNil(b.result)

        // The rightful holders finish their own tasks.
        try pb.send(WireMessage(.done, DoneHeader(leaseToken: lb.leaseToken, artifacts: [:]), payload: [Data("real B".utf8)]))
        try pa.send(WireMessage(.done, DoneHeader(leaseToken: la.leaseToken, artifacts: [:]), payload: [Data("real A".utf8)]))
        XCTAssertTrue(waitUntil(5) { c.status().done == 2 })
        XCTAssertEqual(String(decoding: try c.ledger.task(lb.taskID)?.result ?? Data(), as: UTF8.self), "real B")
        XCTAssertEqual(String(decoding: try c.ledger.task(la.taskID)?.result ?? Data(), as: UTF8.self), "real A")
        XCTAssertEqual(try c.ledger.timeline().map(\.outcome.rawValue).sorted(), ["done", "done"])
        XCTAssertEqual(try c.ledger.events(kind: "done").count, 2)
    }
}

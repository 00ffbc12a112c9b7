@testable import Cluster
import CZeroMQ
import Foundation
import TestSupport
import XCTest

/// Worker identity, authentication and hostile peers: the id a key may claim, what a worker
/// accepts from a coordinator, what a worker with a wrong key does, peer text on terminals.
final class IdentityTests: XCTestCase {
    /// A CURVE coordinator in DIR: key pairs for `keys` (plus the server's), the `allowed` ones
    /// copied into its allow-list.
    func curveCoordinator(_ dir: URL, keys names: [String], allowed: [String]) throws -> (Coordinator, CurveKeyPair, [String: CurveKeyPair]) {
        let keys = dir.appendingPathComponent("keys"), allow = dir.appendingPathComponent("allow")
        let server = try KeyFiles.generate(directory: keys, name: "coordinator")
        var pairs: [String: CurveKeyPair] = [:]
        for n in names { pairs[n] = try KeyFiles.generate(directory: keys, name: n) }
        try FileManager.default.createDirectory(at: allow, withIntermediateDirectories: true)
        for n in allowed {
            try FileManager.default.copyItem(at: keys.appendingPathComponent("\(n).pub"), to: allow.appendingPathComponent("\(n).pub"))
        }
        var o = coordinatorOptions()
        o.curve = server
        o.allowedKeysDirectory = allow
        return (try Coordinator(runDirectory: dir.appendingPathComponent("run"), bind: "tcp://127.0.0.1:*", options: o), server, pairs)
    }

    /// A raw peer says READY with `header` to a fresh key-less coordinator; returns the ledger's
    /// worker row and the worker-joined event's detail.
    func joinRaw(_ header: ReadyHeader) throws -> (WorkerRecord, String) {
        let c = try Coordinator(runDirectory: tempDir("raw"), bind: "tcp://127.0.0.1:*", options: coordinatorOptions())
        let served = runInBackground(c)
        defer { c.stop(); _ = served.wait(timeout: .now() + 5) }
        let peer = try RawPeer(c.endpoint, id: "raw")
        try peer.send(WireMessage(.ready, header))
        XCTAssertTrue(waitUntil(5) { ((try? c.ledger.events(kind: "worker-joined")) ?? []).count == 1 })
        return (try XCTUnwrap(try c.ledger.workers().first), try c.ledger.events(kind: "worker-joined").first?.detail ?? "")
    }

    /// A hostile "coordinator" (a raw ROUTER) sends an ASSIGN whose lease token walks out of the
    /// worker's scratch directory: the worker must refuse it (FAIL naming the token) and leave
    /// the victim directory alone. It used to run the task and then delete `../../victim`.
    func testWorkerRefusesAssignWhoseTokenOrHashesAreNotHex() throws {
        let dir = tempDir("hostile")
        let victim = dir.appendingPathComponent("victim")
        try FileManager.default.createDirectory(at: victim, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: victim.appendingPathComponent("precious.txt"))
        let ctx = try ZMQContext()
        let router = try ZMQSocket(ctx, .router)
        try router.bind("tcp://127.0.0.1:*")
        let endpoint = try router.lastEndpoint()
        let log = ExecLog()
        // cache = dir/cache-w; scratch = dir/cache-w/scratch/<token>; "../../victim" = dir/victim.
        let (w, done) = startWorker(endpoint, workerOptions(dir, "w"), runner: fakeRunner(name: "w", log: log))
        defer { w.stop(); _ = done.wait(timeout: .now() + 5) }

        func nextFromWorker(_ cmd: WireCommand) throws -> (Data, WireMessage)? {
            let end = Date().addingTimeInterval(10)
            while Date() < end {
                guard let f = try router.receive(timeoutMs: 100), f.count >= 2, let m = try? WireMessage.parse(Array(f.dropFirst())) else { continue }
                if m.command == cmd { return (f[0], m) }
            }
            return nil
        }
        let (peer, _) = try XCTUnwrap(try nextFromWorker(.ready), "the worker never said READY")
        let cases: [(token: String, inputs: [String: ManifestEntry], expect: String)] = [
            ("../../victim", [:], "lease token"),
            (Token.make(), ["x": ManifestEntry(sha256: "../../../victim/precious.txt", size: 1)], "sha256"),
            (Token.make(), ["../escape": ManifestEntry(sha256: String(repeating: "a", count: 64), size: 1)], "plain file name"),
        ]
        for c in cases {
            let h = AssignHeader(taskID: "T", leaseToken: c.token, attempt: 1, kind: "fake", label: "T", inputs: c.inputs, checkpoint: nil)
            _ = try router.send([peer] + WireMessage(.assign, h, payload: [spec(FakeSpec())]).frames)
            let (_, fail) = try XCTUnwrap(try nextFromWorker(.fail), "no FAIL for token \(c.token)")
            let fh = try fail.decode(FailHeader.self)
            XCTAssertTrue(fh.error.contains("refused") && fh.error.contains(c.expect), fh.error)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: victim.appendingPathComponent("precious.txt").path), "the worker deleted a directory outside its cache")
        XCTAssertTrue(log.snapshot.isEmpty, "a refused assignment ran")
    }

    /// Keys alice and bob are both allow-listed. A worker holding alice's key must not join as
    /// bob's worker id (and so evict it); as alice-HEX it joins.
    func testAllowListedKeyCannotClaimAnotherKeysWorkerID() throws {
        let dir = tempDir("claim")
        let (c, server, pairs) = try curveCoordinator(dir, keys: ["alice", "bob"], allowed: ["alice", "bob"])
        let alice = pairs["alice"]!
        try c.submit([TaskDescriptor(id: "T", kind: "fake", label: "T", spec: spec(FakeSpec()))])
        let served = runInBackground(c)
        defer { c.stop(); _ = served.wait(timeout: .now() + 5) }
        let log = ExecLog()

        var impostor = workerOptions(dir, "bob-00ff00ff00ff00ff")
        impostor.curve = alice; impostor.serverPublicKey = server.publicKey
        let w1 = Worker(connect: c.endpoint, options: impostor, runner: fakeRunner(name: "impostor", log: log))
        XCTAssertThrowsError(try w1.run()) { e in XCTAssertTrue("\(e)".contains("does not belong to the key"), "\(e)") }
        let refused = try c.ledger.events(kind: "worker-refused")
        XCTAssertEqual(refused.map(\.worker), ["bob-00ff00ff00ff00ff"])
        XCTAssertTrue(try c.ledger.workers().isEmpty, "a refused impostor must not write (or overwrite) a workers row")
        XCTAssertTrue(log.snapshot.isEmpty)

        var honest = workerOptions(dir, WorkerOptions.uniqueID(name: "alice"))
        honest.curve = alice; honest.serverPublicKey = server.publicKey
        let (w2, _) = startWorker(c.endpoint, honest, runner: fakeRunner(name: "alice", log: log))
        defer { w2.stop() }
        XCTAssertTrue(waitUntil(10) { (try? c.ledger.task("T")?.state) == .done })
        XCTAssertEqual(log.snapshot.map(\.worker), ["alice"])
    }

    /// ROUTER_HANDOVER lets a DEALER take over a routing id. Bob's key, using alice's worker's
    /// routing id, must not be able to speak on her connection: his DONE for her current lease
    /// is dropped and her own result stands.
    func testAnotherKeyCannotSpeakOnAWorkersConnection() throws {
        let dir = tempDir("handover")
        let (c, server, pairs) = try curveCoordinator(dir, keys: ["alice", "bob"], allowed: ["alice", "bob"])
        try c.submit([TaskDescriptor(id: "T", kind: "fake", label: "T", spec: spec(FakeSpec(sleepMs: 1500)))])
        let served = runInBackground(c)
        defer { c.stop(); _ = served.wait(timeout: .now() + 5) }
        var ao = workerOptions(dir, "alice-0a0a0a0a0a0a0a0a")
        ao.curve = pairs["alice"]; ao.serverPublicKey = server.publicKey
        let (aw, _) = startWorker(c.endpoint, ao, runner: fakeRunner(name: "alice", log: ExecLog()))
        defer { aw.stop() }
        XCTAssertTrue(waitUntil(10) { ((try? c.ledger.timeline()) ?? []).contains { $0.outcome == .running } })
        let token = try XCTUnwrap(try c.ledger.timeline().first { $0.outcome == .running }?.leaseToken)

        let ctx = try ZMQContext()
        let bob = try ZMQSocket(ctx, .dealer)
        try bob.setString(ZMQ_ROUTING_ID, "alice-0a0a0a0a0a0a0a0a#1")
        try bob.setString(ZMQ_CURVE_SERVERKEY, server.publicKey)
        try bob.setString(ZMQ_CURVE_PUBLICKEY, pairs["bob"]!.publicKey)
        try bob.setString(ZMQ_CURVE_SECRETKEY, pairs["bob"]!.secretKey)
        try bob.connect(c.endpoint)
        defer { bob.close() }
        _ = try bob.send(WireMessage(.done, DoneHeader(leaseToken: token, artifacts: [:]), payload: [Data("forged".utf8)]).frames)
        XCTAssertTrue(waitUntil(20) { (try? c.ledger.task("T")?.state) == .done })
        XCTAssertEqual(try c.ledger.task("T")?.result.map { String(decoding: $0, as: UTF8.self) }, "ok T", "bob's forged DONE was taken")
    }

    func testKeyNameClaimRule() {
        XCTAssertTrue(KeyFiles.keyName("worker", mayClaim: "worker"))
        XCTAssertTrue(KeyFiles.keyName("worker", mayClaim: "worker-0123456789abcdef"))
        XCTAssertFalse(KeyFiles.keyName("worker", mayClaim: "worker-b-0123"), "a key must not claim ids of key 'worker-b'")
        XCTAssertFalse(KeyFiles.keyName("worker", mayClaim: "workers-01"))
        XCTAssertFalse(KeyFiles.keyName("", mayClaim: "-01"))
        XCTAssertFalse(KeyFiles.keyName("worker", mayClaim: "worker-"))
        let a = WorkerOptions.uniqueID(name: "w"), b = WorkerOptions.uniqueID(name: "w")
        XCTAssertNotEqual(a, b)
        XCTAssertTrue(KeyFiles.keyName("w", mayClaim: a))
    }

    /// A worker whose key is not on the allow-list used to log "coordinator silent" for ever.
    /// Now it logs why and gives up after a bounded number of refused handshakes.
    func testWorkerWithUnlistedKeyGivesUpNamingItsKeyFiles() throws {
        let dir = tempDir("badkey")
        let (c, server, pairs) = try curveCoordinator(dir, keys: ["stranger"], allowed: [])
        let stranger = pairs["stranger"]!
        let served = runInBackground(c)
        defer { c.stop(); _ = served.wait(timeout: .now() + 5) }
        var wo = workerOptions(dir, "stranger")
        wo.curve = stranger; wo.serverPublicKey = server.publicKey
        wo.giveUpAfter = nil   // only the failed handshakes may end it
        wo.keyFilesDescription = "KEYFILES-MARKER"
        guard let e = try errorEndingRun(c.endpoint, wo, "the worker kept retrying a key the coordinator refuses") else { return }
        XCTAssertTrue("\(e)".contains("KEYFILES-MARKER") && "\(e)".contains("allow-list"), "\(e)")
    }

    /// Runs a worker until `run` ends (at most 60 s) and returns the error it ended with; nil
    /// (after recording `stuck` as a failure) if it did not end.
    func errorEndingRun(_ endpoint: String, _ wo: WorkerOptions, _ stuck: String) throws -> Error? {
        let w = Worker(connect: endpoint, options: wo, runner: fakeRunner(name: "w", log: ExecLog()))
        final class Outcome: @unchecked Sendable { var error: Error? }   // ordered by the semaphore
        let outcome = Outcome()
        let ended = DispatchSemaphore(value: 0)
        Thread { do { try w.run() } catch { outcome.error = error }; ended.signal() }.start()
        if ended.wait(timeout: .now() + 60) == .timedOut {
            w.stop(); _ = ended.wait(timeout: .now() + 5)
            XCTFail(stuck)
            return nil
        }
        return try XCTUnwrap(outcome.error, "run returned without an error")
    }

    /// A worker without keys against a coordinator that requires them (every coordinator does
    /// unless --insecure) says so and gives up, instead of reporting a silent coordinator for ever.
    func testKeylessWorkerAgainstACurveCoordinatorSaysItNeedsKeys() throws {
        let dir = tempDir("nokey")
        let (c, _, _) = try curveCoordinator(dir, keys: [], allowed: [])
        let served = runInBackground(c)
        defer { c.stop(); _ = served.wait(timeout: .now() + 5) }
        var wo = workerOptions(dir, "plain")
        wo.giveUpAfter = nil   // only the failed handshakes may end it
        guard let e = try errorEndingRun(c.endpoint, wo, "the key-less worker kept reconnecting to a coordinator that requires keys") else { return }
        XCTAssertTrue("\(e)".contains("requires CURVE keys") && "\(e)".contains("--keys"), "\(e)")
    }

    /// Worker-supplied text reaches the ledger (and so status and logs) without control characters.
    func testPeerTextIsEscapedBeforeItIsStoredOrPrinted() throws {
        let (w, _) = try joinRaw(ReadyHeader(workerID: "evil\u{1B}[2J\r", codeVersion: testVersion, threads: 1, memoryBytes: 1,
                                             slots: 1, cached: [], running: [], host: "h\u{07}\u{9B}31m"))
        for s in [w.id, w.host] {
            XCTAssertFalse(s.unicodeScalars.contains { $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0) }, s.debugDescription)
        }
        XCTAssertEqual(w.id, "evil\\u{1b}[2J\\u{d}")
        XCTAssertEqual(LogText.escape("plain text ü"), "plain text ü")
    }

    /// Tables from mixed CPUs differ in the last digits; the ledger now says which BLAS kernel
    /// and ISA level each worker computed with (READY's optional `kernel`).
    func testWorkerKernelIsRecordedInTheLedger() throws {
        let (w, joined) = try joinRaw(ReadyHeader(workerID: "k-1", codeVersion: testVersion, threads: 1, memoryBytes: 1,
                                                  slots: 1, cached: [], running: [], host: "h", kernel: "Haswell avx2"))
        XCTAssertEqual(w.kernel, "Haswell avx2")
        XCTAssertTrue(joined.contains("kernel Haswell avx2"), joined)
    }

    /// The full-disk pause used to live only in the coordinator's memory; `seafold status`
    /// (the ledger's status) now shows it, and a finished run's clock stops.
    func testStatusShowsStoragePauseAndElapsedStopsAtTheLastEvent() throws {
        let dir = tempDir("notice")
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: coordinatorOptions())
        try c.submit([TaskDescriptor(id: "T", kind: "fake", label: "T", spec: spec(FakeSpec()))])
        c.lock.lock()
        c.storageFailed(ClusterError.io(path: dir.path, reason: String(cString: strerror(ENOSPC))), path: dir.path, now: Date().timeIntervalSince1970)
        c.lock.unlock()
        let reader = try Ledger(runDirectory: dir)
        XCTAssertTrue(try reader.status().storageProblem?.contains("no space") == true)
        XCTAssertTrue(try reader.status().summaryLine.contains("PAUSED"))

        let dir2 = tempDir("elapsed")
        let c2 = try Coordinator(runDirectory: dir2, bind: "tcp://127.0.0.1:*", options: coordinatorOptions())
        try c2.submit([TaskDescriptor(id: "T", kind: "fake", label: "T", spec: spec(FakeSpec()))])
        let (w, _) = startWorker(c2.endpoint, workerOptions(dir2, "w"), runner: fakeRunner(name: "w", log: ExecLog()))
        defer { w.stop() }
        XCTAssertEqual(try runBounded(c2).done, 1)
        let now = Date().timeIntervalSince1970
        let a = try c2.ledger.status(now: now + 10), b = try c2.ledger.status(now: now + 1000)
        XCTAssertTrue(a.finished)
        XCTAssertEqual(a.elapsed, b.elapsed, "elapsed kept counting after the run ended")
        XCTAssertLessThan(a.elapsed, 10)
    }
}

@testable import Cluster
import Foundation
import TestSupport
import XCTest

final class SecurityTests: XCTestCase {
    func testCurveAllowListedWorkerRunsStrangerGetsNothing() throws {
        let dir = tempDir("curve")
        let keys = dir.appendingPathComponent("keys"), allow = dir.appendingPathComponent("allow")
        let server = try KeyFiles.generate(directory: keys, name: "coordinator")
        let good = try KeyFiles.generate(directory: keys, name: "good")
        let stranger = try KeyFiles.generate(directory: keys, name: "stranger")
        XCTAssertEqual(server.publicKey.count, 40)
        XCTAssertEqual(try KeyFiles.load(directory: keys, name: "good"), good)
        let mode = (try FileManager.default.attributesOfItem(atPath: keys.appendingPathComponent("good.key").path)[.posixPermissions] as? NSNumber)?.intValue
        XCTAssertEqual(mode, 0o600)
        try FileManager.default.createDirectory(at: allow, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: keys.appendingPathComponent("good.pub"), to: allow.appendingPathComponent("good.pub"))

        var o = coordinatorOptions()
        o.curve = server
        o.allowedKeysDirectory = allow
        let c = try Coordinator(runDirectory: dir.appendingPathComponent("run"), bind: "tcp://127.0.0.1:*", options: o)
        try c.submit([TaskDescriptor(id: "T", kind: "fake", label: "T", spec: spec(FakeSpec()))])
        let ended = runInBackground(c)
        defer { c.stop(); _ = ended.wait(timeout: .now() + 5) }

        var so = workerOptions(dir, "stranger")
        so.curve = stranger; so.serverPublicKey = server.publicKey; so.giveUpAfter = 1
        let log = ExecLog()
        let (sw, sdone) = startWorker(c.endpoint, so, runner: fakeRunner(name: "stranger", log: log))
        XCTAssertTrue(waitUntil(5) { (c.zap?.denied ?? 0) > 0 })
        usleep(500_000)
        sw.stop(); _ = sdone.wait(timeout: .now() + 5)
        XCTAssertEqual(try c.ledger.timeline().count, 0, "the stranger got no task")
        XCTAssertTrue(log.snapshot.isEmpty)

        var go = workerOptions(dir, "good")
        go.curve = good; go.serverPublicKey = server.publicKey
        let (gw, _) = startWorker(c.endpoint, go, runner: fakeRunner(name: "good", log: log))
        defer { gw.stop() }
        XCTAssertTrue(waitUntil(5) { (try? c.ledger.task("T")?.state) == .done })
        XCTAssertEqual(log.snapshot.map(\.worker), ["good"])
    }

    func testNonLoopbackBindNeedsKeysOrInsecure() throws {
        let dir = tempDir("bind")
        XCTAssertThrowsError(try Coordinator(runDirectory: dir, bind: "tcp://0.0.0.0:0", options: coordinatorOptions())) { e in
            XCTAssertTrue("\(e)".contains("--insecure"), "\(e)")
        }
        var o = coordinatorOptions()
        o.insecure = true
        XCTAssertNoThrow(try Coordinator(runDirectory: dir, bind: "tcp://0.0.0.0:*", options: o))
        XCTAssertTrue(isLoopbackEndpoint("tcp://127.0.0.1:5555"))
        XCTAssertFalse(isLoopbackEndpoint("tcp://*:5555"))
    }
}

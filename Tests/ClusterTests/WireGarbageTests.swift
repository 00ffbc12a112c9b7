@testable import Cluster
import Foundation
import TestSupport
import XCTest

/// Bad-input corpus for the wire-protocol decoder: garbage frames give `.malformed` (or
/// `.refused` for another SEAFOLD version) with a reason naming the command and the field,
/// never a crash; a coordinator fed garbage with valid framing keeps serving.
final class WireGarbageTests: XCTestCase {
    let v = Data("SEAFOLD/1".utf8)

    func expectMalformed(_ frames: [Data], _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            let m = try WireMessage.parse(frames)
            XCTFail("parsed garbage as \(m.command)", file: file, line: line)
        } catch let ClusterError.malformed(reason) {
            for f in fragments { XCTAssertTrue(reason.contains(f), "'\(reason)' does not mention '\(f)'", file: file, line: line) }
        } catch {
            XCTFail("expected .malformed, got \(error)", file: file, line: line)
        }
    }

    func testFramingGarbage() {
        expectMalformed([], ["0 frames"])
        expectMalformed([v], ["1 frames"])
        expectMalformed([v, Data("READY".utf8)], ["2 frames"])
        expectMalformed(Array(repeating: v, count: 9), ["9 frames", "at most 8"])
        expectMalformed([Data(), Data(), Data()], ["protocol frame"])
        expectMalformed([Data([0xff, 0xfe, 0x00]), Data("READY".utf8), Data("{}".utf8)], ["protocol frame"])
        do {  // Looks like another SEAFOLD version: refused (and answered) with the string quoted.
            _ = try WireMessage.parse([Data("SEAFOLD/1 ".utf8), Data("READY".utf8), Data("{}".utf8)])
            XCTFail("parsed")
        } catch let ClusterError.refused(r) { XCTAssertTrue(r.contains("'SEAFOLD/1 '"), r) } catch { XCTFail("\(error)") }
        expectMalformed([Data(repeating: 0x41, count: 1 << 20), Data("READY".utf8), Data("{}".utf8)], ["protocol frame"])
        expectMalformed([v, Data("NOPE".utf8), Data("{}".utf8)], ["unknown command"])
        expectMalformed([v, Data("ready".utf8), Data("{}".utf8)], ["unknown command"])
        expectMalformed([v, Data(), Data("{}".utf8)], ["unknown command"])
        expectMalformed([v, Data([0xc3, 0x28]), Data("{}".utf8)], ["unknown command"])
        expectMalformed([v, Data(repeating: 0x52, count: 100_000), Data("{}".utf8)], ["unknown command"])
        expectMalformed([v, Data("DONE".utf8), Data(count: WireProtocol.maxHeaderBytes + 1)], ["DONE header", "exceeds"])
        do {
            _ = try WireMessage.parse([Data("SEAFOLD/2".utf8), Data("READY".utf8), Data("{}".utf8)])
            XCTFail("another version parsed")
        } catch let ClusterError.refused(r) {
            XCTAssertTrue(r.contains("SEAFOLD/2"), r)
        } catch { XCTFail("\(error)") }
    }

    /// Each command's header decoder, fed every kind of wrong JSON, names the command and field.
    func testHeaderGarbageNamesCommandAndField() throws {
        func decodeAs(_ cmd: WireCommand, _ header: String) throws {
            let m = try WireMessage.parse([v, Data(cmd.rawValue.utf8), Data(header.utf8)])
            switch cmd {
            case .ready: _ = try m.decode(ReadyHeader.self)
            case .assign: _ = try m.decode(AssignHeader.self)
            case .progress: _ = try m.decode(ProgressHeader.self)
            case .checkpoint: _ = try m.decode(CheckpointHeader.self)
            case .done: _ = try m.decode(DoneHeader.self)
            case .fail: _ = try m.decode(FailHeader.self)
            case .fetch: _ = try m.decode(FetchHeader.self)
            case .chunk: _ = try m.decode(ChunkHeader.self)
            case .put: _ = try m.decode(PutHeader.self)
            case .putChunk: _ = try m.decode(PutChunkHeader.self)
            case .putAck: _ = try m.decode(PutAckHeader.self)
            case .refuse, .bye, .reset: _ = try m.decode(ReasonHeader.self)
            case .heartbeat: _ = try m.decode(Empty.self)
            case .cancel: _ = try m.decode(CancelHeader.self)
            }
        }
        func expect(_ cmd: WireCommand, _ header: String, _ fragments: [String], line: UInt = #line) {
            do {
                try decodeAs(cmd, header)
                XCTFail("\(cmd.rawValue) accepted \(header.prefix(80))", line: line)
            } catch let ClusterError.malformed(r) {
                XCTAssertTrue(r.contains(cmd.rawValue), "'\(r)' does not name \(cmd.rawValue)", line: line)
                for f in fragments { XCTAssertTrue(r.contains(f), "'\(r)' does not mention '\(f)'", line: line) }
                XCTAssertLessThan(r.count, 400, "reason is a dump, not a sentence: \(r)", line: line)
            } catch { XCTFail("\(error)", line: line) }
        }
        for cmd in WireCommand.allCases where cmd != .heartbeat {
            expect(cmd, "not json", ["not valid JSON"])
            expect(cmd, "", ["not valid JSON"])
            expect(cmd, "[1, 2]", ["top level"])
            expect(cmd, "\"text\"", [])
            expect(cmd, "{\"a\": ", ["not valid JSON"])
            expect(cmd, String(repeating: "[", count: 50_000), [])
            expect(cmd, "{\"x\": \"\u{1}\"", [])
        }
        expect(.heartbeat, "not json", ["not valid JSON"])
        expect(.ready, "{}", ["missing field"])
        expect(.ready, #"{"workerID":"w","codeVersion":"v","threads":"two","memoryBytes":1,"slots":1,"cached":[],"running":[],"host":"h"}"#, ["'threads'"])
        expect(.ready, #"{"workerID":"w","codeVersion":"v","threads":2,"memoryBytes":1,"slots":1,"cached":[3],"running":[],"host":"h"}"#, ["'cached[0]'"])
        expect(.ready, #"{"workerID":null,"codeVersion":"v","threads":2,"memoryBytes":1,"slots":1,"cached":[],"running":[],"host":"h"}"#, ["'workerID'"])
        expect(.ready, #"{"workerID":"w","codeVersion":"v","threads":1e300,"memoryBytes":1,"slots":1,"cached":[],"running":[],"host":"h"}"#, ["'threads'"])
        expect(.ready, #"{"workerID":"w","codeVersion":"v","threads":2,"memoryBytes":99999999999999999999999,"slots":1,"cached":[],"running":[],"host":"h"}"#, ["'memoryBytes'"])
        expect(.fetch, #"{"sha256":"ab","offset":"0","length":1}"#, ["'offset'"])
        expect(.fetch, #"{"sha256":"ab","offset":0.5,"length":1}"#, ["'offset'"])
        expect(.fetch, #"{"sha256":"ab","offset":0}"#, ["missing field 'length'"])
        expect(.done, #"{"leaseToken":"t","artifacts":{"a":1}}"#, ["'artifacts.a'"])
        expect(.done, #"{"leaseToken":"t","artifacts":[]}"#, ["'artifacts'"])
        expect(.assign, #"{"taskID":"t","leaseToken":"l","attempt":1,"kind":"k","label":"x","inputs":{"w":{"sha256":"a"}}}"#, ["'inputs.w.size'"])
        expect(.progress, #"{"leaseToken":"t","fraction":"half","message":""}"#, ["'fraction'"])
        expect(.putAck, #"{"transferID":"t","complete":"yes"}"#, ["'complete'"])
        expect(.chunk, #"{"sha256":"a","offset":0,"total":-1,"error":5}"#, ["'error'"])
    }

    /// Random frames around valid skeletons: parse and decode never trap.
    func testRandomFramesNeverCrash() {
        var g = SystemRandomNumberGenerator()
        let cmds = WireCommand.allCases.map { Data($0.rawValue.utf8) }
        for i in 0..<3000 {
            var frames: [Data] = []
            let n = Int.random(in: 0...10, using: &g)
            for j in 0..<n {
                switch (j, Int.random(in: 0..<4, using: &g)) {
                case (0, 0...2): frames.append(v)
                case (1, 0...2): frames.append(cmds.randomElement(using: &g)!)
                default: frames.append(randomBytes(Int.random(in: 0...64, using: &g)))
                }
            }
            if i % 3 == 0 && n >= 3 { frames[2] = Data(#"{"leaseToken":"x","sha256":"y","offset":-1,"length":-5,"transferID":"z","size":-9}"#.utf8) }
            guard let m = try? WireMessage.parse(frames) else { continue }
            _ = try? m.decode(ReadyHeader.self); _ = try? m.decode(FetchHeader.self); _ = try? m.decode(PutHeader.self)
            _ = try? m.decode(DoneHeader.self); _ = try? m.decode(AssignHeader.self); _ = try? m.decode(PutChunkHeader.self)
        }
    }

    /// Well-framed messages with hostile values reach the handlers; the coordinator answers or
    /// drops each one and still completes a task for an honest worker.
    func testHostileValuesDoNotCrashCoordinator() throws {
        let dir = tempDir("hostile")
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: coordinatorOptions())
        try c.submit([TaskDescriptor(id: "T", kind: "fake", label: "T", spec: spec(FakeSpec()))])
        let ended = runInBackground(c)
        defer { c.stop(); _ = ended.wait(timeout: .now() + 5) }
        let evil = try RawPeer(c.endpoint, id: "evil")
        try evil.send(WireMessage(.ready, ReadyHeader(workerID: String(repeating: "w", count: 100_000), codeVersion: testVersion,
                                                      threads: -5, memoryBytes: Int64.min, slots: Int.max, cached: ["../../x", "", String(repeating: "f", count: 64)],
                                                      running: ["nope", "../ledger.sqlite"], host: "\u{0}\u{7}")))
        let hash = String(repeating: "a", count: 64)
        let hostile: [[Data]] = [
            [v, Data("FETCH".utf8), Data(#"{"sha256":"\#(hash)","offset":-1,"length":-5}"#.utf8)],
            [v, Data("FETCH".utf8), Data(#"{"sha256":"../../etc/passwd","offset":9223372036854775807,"length":9223372036854775807}"#.utf8)],
            [v, Data("PUT".utf8), Data(#"{"transferID":"t1","sha256":"\#(hash)","size":-1}"#.utf8)],
            [v, Data("PUT".utf8), Data(#"{"transferID":"t2","sha256":"\#(hash)","size":9223372036854775807}"#.utf8)],
            [v, Data("PUTCHUNK".utf8), Data(#"{"transferID":"t2","offset":9223372036854775807}"#.utf8), Data([1, 2, 3])],
            [v, Data("PUTCHUNK".utf8), Data(#"{"transferID":"t2","offset":-3}"#.utf8), Data([1, 2, 3])],
            [v, Data("PUTCHUNK".utf8), Data(#"{"transferID":"t2","offset":0}"#.utf8)],
            [v, Data("PUTCHUNK".utf8), Data(#"{"transferID":"unknown","offset":0}"#.utf8), Data([1])],
            [v, Data("PUT".utf8), Data(#"{"transferID":"t3","sha256":"\#(hash)","size":0}"#.utf8)],
            [v, Data("PROGRESS".utf8), Data(#"{"leaseToken":"forged","fraction":1e308,"message":"\#(String(repeating: "m", count: 50_000))"}"#.utf8)],
            [v, Data("CHECKPOINT".utf8), Data(#"{"leaseToken":"forged","sha256":"../../../x"}"#.utf8)],
            [v, Data("DONE".utf8), Data(#"{"leaseToken":"forged","artifacts":{"../../evil":"\#(hash)","":""}}"#.utf8), Data("{}".utf8)],
            [v, Data("DONE".utf8), Data(#"{"leaseToken":"","artifacts":{}}"#.utf8)],
            [v, Data("FAIL".utf8), Data(#"{"leaseToken":"forged","error":"\#(String(repeating: "e", count: 100_000))"}"#.utf8)],
            [v, Data("ASSIGN".utf8), Data("{}".utf8)],
            [v, Data("HEARTBEAT".utf8), Data("garbage".utf8)],
            [v, Data("BYE".utf8), Data("[]".utf8)],
        ]
        for h in hostile { try evil.socket.send(h) }
        let log = ExecLog()
        let (w, _) = startWorker(c.endpoint, workerOptions(dir, "ok"), runner: fakeRunner(name: "ok", log: log))
        defer { w.stop() }
        XCTAssertTrue(waitUntil(10) { (try? c.ledger.task("T")?.state) == .done })
        XCTAssertEqual(log.snapshot.map(\.task), ["T"])
        // Nothing escaped the run directory.
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.deletingLastPathComponent().appendingPathComponent("evil").path))
    }
}

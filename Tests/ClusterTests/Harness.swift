@testable import Cluster
import CZeroMQ
import Foundation
import TestSupport
import XCTest

/// What fake tasks do, from their spec JSON.
struct FakeSpec: Codable {
    var sleepMs: Int = 0
    /// Throw on attempts 1…failAttempts.
    var failAttempts: Int = 0
    /// Output artifact size in bytes (0 = none).
    var outputBytes: Int = 0
    /// Read these inputs and put "name:sha256" lines in the result.
    var inputNames: [String] = []
    init(sleepMs: Int = 0, failAttempts: Int = 0, outputBytes: Int = 0, inputNames: [String] = [], checkpointText: String? = nil, hangAttempts: Int = 0) {
        self.sleepMs = sleepMs; self.failAttempts = failAttempts; self.outputBytes = outputBytes; self.inputNames = inputNames; self.checkpointText = checkpointText
        self.hangAttempts = hangAttempts
    }
    /// On attempts 1…hangAttempts run until the coordinator cancels the lease.
    var hangAttempts: Int = 0
    /// On attempt 1 save a checkpoint with this text and throw; later attempts return it.
    var checkpointText: String?
}

/// Thread-safe log of task executions.
final class ExecLog: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var entries: [(task: String, attempt: Int, worker: String, start: Double, end: Double)] = []
    func add(_ t: String, _ a: Int, _ w: String, _ s: Double, _ e: Double) { lock.lock(); entries.append((t, a, w, s, e)); lock.unlock() }
    var snapshot: [(task: String, attempt: Int, worker: String, start: Double, end: Double)] { lock.lock(); defer { lock.unlock() }; return entries }
}

func fakeRunner(name: String, log: ExecLog) -> Worker.Runner {
    return { a, ctx in
        let start = Date().timeIntervalSince1970
        let spec = (try? JSONDecoder().decode(FakeSpec.self, from: a.spec)) ?? FakeSpec()
        defer { log.add(a.taskID, a.attempt, name, start, Date().timeIntervalSince1970) }
        if let text = spec.checkpointText {
            if let cp = try ctx.latestCheckpoint() {
                return TaskOutcome(result: try Data(contentsOf: cp))
            }
            let f = ctx.scratchDirectory.appendingPathComponent("cp")
            try Data(text.utf8).write(to: f)
            try ctx.saveCheckpoint(f)
            throw ClusterError.transfer("simulated crash after checkpoint")
        }
        if spec.sleepMs > 0 { usleep(UInt32(spec.sleepMs) * 1000) }
        if a.attempt <= spec.hangAttempts {
            while !ctx.isCancelled { usleep(10_000) }
            try ctx.checkCancelled()
        }
        ctx.progress(0.5, "halfway")
        if a.attempt <= spec.failAttempts { throw ClusterError.transfer("simulated failure on attempt \(a.attempt)") }
        var result = "ok \(a.taskID)"
        for n in spec.inputNames { result += "\n\(n):\(try ArtifactStore.sha256(of: ctx.input(n)))" }
        var artifacts: [String: URL] = [:]
        if spec.outputBytes > 0 {
            let bytes = randomBytes(spec.outputBytes)
            let f = ctx.scratchDirectory.appendingPathComponent("out.bin")
            try bytes.write(to: f)
            artifacts["out.bin"] = f
        }
        return TaskOutcome(result: Data(result.utf8), artifacts: artifacts)
    }
}

func spec(_ s: FakeSpec) -> Data { try! JSONEncoder().encode(s) }

/// A fresh directory for a cluster test, kept after the test: workers a test leaves to end
/// on their own may still write to it.
func tempDir(_ name: String) -> URL {
    try! TemporaryDirectory.make("seafold-cluster-\(name)")
}

let testVersion = "test-1"

/// Heartbeats every 0.25 s, dead after 3 missed (0.75 s): fast enough for the fault tests,
/// and slow enough that a CPU stall of a few hundred ms on a shared CI machine does not declare
/// a healthy peer dead (with 0.1 s, a 0.3 s stall did, and exact attempt counts broke).
func coordinatorOptions() -> CoordinatorOptions {
    var o = CoordinatorOptions(codeVersion: testVersion)
    o.heartbeatInterval = 0.25
    o.liveness = 3
    o.printProgress = false
    return o
}

func workerOptions(_ dir: URL, _ name: String) -> WorkerOptions {
    var o = WorkerOptions(codeVersion: testVersion, cacheDirectory: dir.appendingPathComponent("cache-\(name)"))
    o.workerID = name
    o.heartbeatInterval = 0.25
    o.liveness = 3
    o.reconnectInitial = 0.1
    o.reconnectMax = 0.4
    o.giveUpAfter = 5
    return o
}

/// Starts a worker on its own thread; returns it (stop it or let BYE end it).
@discardableResult
func startWorker(_ endpoint: String, _ opts: WorkerOptions, runner: @escaping Worker.Runner) -> (Worker, DispatchSemaphore) {
    let w = Worker(connect: endpoint, options: opts, runner: runner)
    let done = DispatchSemaphore(value: 0)
    let t = Thread { try? w.run(); done.signal() }
    t.start()
    return (w, done)
}

/// Runs the coordinator with a watchdog (stop after `timeout` seconds).
func runBounded(_ c: Coordinator, mode: CoordinatorRunMode = .allSettled, timeout: Double = 20) throws -> RunStatus {
    // Weak: the queue keeps a cancelled item until its deadline, and a coordinator kept alive
    // keeps its run-directory lock (a restart test opens the same directory again).
    let watchdog = DispatchWorkItem { [weak c] in c?.stop() }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    defer { watchdog.cancel() }
    return try c.run(until: mode)
}

/// Runs the coordinator on a background thread until `stop()`.
func runInBackground(_ c: Coordinator) -> DispatchSemaphore {
    let done = DispatchSemaphore(value: 0)
    let t = Thread { _ = try? c.run(until: .stopped); done.signal() }
    t.start()
    return done
}

/// A hand-driven DEALER speaking the protocol (for silent workers and malformed frames).
final class RawPeer {
    let ctx: ZMQContext
    let socket: ZMQSocket
    init(_ endpoint: String, id: String) throws {
        ctx = try ZMQContext()
        socket = try ZMQSocket(ctx, .dealer)
        try socket.setString(ZMQ_ROUTING_ID, id)
        try socket.connect(endpoint)
    }
    func send(_ m: WireMessage) throws { try socket.send(m.frames) }
    func ready(_ id: String, version: String = testVersion) throws {
        try send(WireMessage(.ready, ReadyHeader(workerID: id, codeVersion: version, threads: 1, memoryBytes: 1, slots: 1, cached: [], running: [], host: "raw")))
    }
    /// Waits for a message with this command, skipping heartbeats.
    func expect(_ cmd: WireCommand, timeout: Double = 5) throws -> WireMessage? {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if let f = try socket.receive(timeoutMs: 50), let m = try? WireMessage.parse(f), m.command == cmd { return m }
        }
        return nil
    }
}

/// Pseudo-random bytes, fast in debug builds (64 bits per step).
func randomBytes(_ n: Int) -> Data {
    var g = SystemRandomNumberGenerator()
    var words = [UInt64](repeating: 0, count: (n + 7) / 8)
    for i in words.indices { words[i] = g.next() }
    return words.withUnsafeBytes { Data($0.prefix(n)) }
}

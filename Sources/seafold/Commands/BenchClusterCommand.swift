import ArgumentParser
import Cluster
import Foundation

/// `seafold bench cluster [--json]`: dispatch latency and throughput with trivial tasks,
/// coordinator CPU/memory with N simulated heartbeating workers, and artifact transfer MB/s
/// (plain, CURVE) against a raw ZeroMQ transfer measured in the same run.
struct BenchClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cluster", abstract: "Benchmark the coordinator, workers and transfers.")
    @Flag var json = false
    @Option(help: "Simulated heartbeating workers.") var workers = 500
    @Option(help: "Trivial tasks per simulated worker.") var tasksPerWorker = 4
    @Option(help: "How long a simulated worker holds each task before DONE (ms), keeping the offered load below saturation.") var holdMs = 2000
    @Option(help: "Artifact size for the transfer test (MiB).") var mb = 64

    struct Report: Codable {
        var singleWorker: [String: Double] = [:]
        var simulated: [String: Double] = [:]
        var transfer: [String: Double] = [:]
    }

    func run() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("seafold-bench-cluster-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        var r = Report()
        r.singleWorker = try singleWorker(root.appendingPathComponent("single"), tasks: 300)
        r.simulated = try simulated(root.appendingPathComponent("sim"), n: workers, tasks: workers * tasksPerWorker)
        r.transfer = try transfers(root.appendingPathComponent("xfer"), bytes: mb << 20)
        if json {
            let e = JSONEncoder(); e.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try e.encode(r), as: UTF8.self))
        } else {
            for (section, d) in [("one real worker", r.singleWorker), ("\(workers) simulated workers", r.simulated), ("transfer \(mb) MiB", r.transfer)] {
                print(section)
                for (k, v) in d.sorted(by: { $0.key < $1.key }) { print(String(format: "  %-34@ %10.3f", k as NSString, v)) }
            }
        }
    }

    static func options(_ v: String) -> CoordinatorOptions {
        var o = CoordinatorOptions(codeVersion: v)
        o.printProgress = false
        return o
    }

    static func percentile(_ xs: [Double], _ p: Double) -> Double {
        guard !xs.isEmpty else { return .nan }
        let s = xs.sorted()
        return s[min(s.count - 1, Int((p * Double(s.count - 1)).rounded()))]
    }

    static func threadCPU() -> Double {
        var ru = rusage()
        getrusage(__rusage_who_t(1), &ru)  // RUSAGE_THREAD (Linux)
        return Double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + Double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6
    }

    static func rssMiB() -> Double {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return .nan }
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }

    /// Runs the coordinator on its own thread; returns (status, coordinator-thread CPU seconds).
    static func serve(_ c: Coordinator, mode: CoordinatorRunMode) -> () -> (RunStatus?, Double) {
        final class Box: @unchecked Sendable { var st: RunStatus?; var cpu = 0.0 }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Thread { let t0 = threadCPU(); box.st = try? c.run(until: mode); box.cpu = threadCPU() - t0; done.signal() }.start()
        return { done.wait(); return (box.st, box.cpu) }
    }

    /// One real Worker, trivial tasks: gap between a task's end and the next task's start.
    func singleWorker(_ dir: URL, tasks: Int) throws -> [String: Double] {
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: Self.options("b"))
        try c.submit((0..<tasks).map { TaskDescriptor(id: "t\($0)", kind: "noop", label: "t\($0)", spec: Data("{}".utf8)) })
        let lock = NSLock()
        var starts: [Double] = [], ends: [Double] = []
        let w = Worker(connect: c.endpoint, options: WorkerOptions(codeVersion: "b", cacheDirectory: dir.appendingPathComponent("cache"))) { _, _ in
            lock.lock(); starts.append(Date().timeIntervalSince1970); lock.unlock()
            defer { lock.lock(); ends.append(Date().timeIntervalSince1970); lock.unlock() }
            return TaskOutcome(result: Data("{}".utf8))
        }
        Thread { try? w.run() }.start()
        let t0 = Date()
        let wait = Self.serve(c, mode: .allSettled)
        _ = wait()
        let wall = Date().timeIntervalSince(t0)
        var gaps: [Double] = []
        for i in 1..<max(1, min(starts.count, ends.count)) { gaps.append((starts[i] - ends[i - 1]) * 1000) }
        return ["dispatch_ms_p50": Self.percentile(gaps, 0.5), "dispatch_ms_p99": Self.percentile(gaps, 0.99),
                "tasks_per_s": Double(tasks) / wall]
    }

    /// N DEALERs on one thread that heartbeat and answer ASSIGN with DONE at once.
    func simulated(_ dir: URL, n: Int, tasks: Int) throws -> [String: Double] {
        let rss0 = Self.rssMiB()
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: Self.options("b"))
        let wait = Self.serve(c, mode: .stopped)
        let ctx = try ZMQContext()
        var socks: [ZMQSocket] = []
        for i in 0..<n {
            let s = try ZMQSocket(ctx, .dealer)
            try s.setRoutingID("sim\(i)")
            try s.connect(c.endpoint)
            try s.send(WireMessage(.ready, ReadyHeader(workerID: "sim\(i)", codeVersion: "b", threads: 1, memoryBytes: 1, slots: 1, cached: [], running: [], host: "sim")).frames)
            socks.append(s)
        }
        var lastDone = [Double](repeating: 0, count: n)
        var lat: [Double] = []
        var completed = 0
        var held: [(due: Double, i: Int, token: String)] = []
        let hold = Double(holdMs) / 1000
        var nextBeat = Date().timeIntervalSince1970 + 1
        func pump(until deadline: Double) throws {
            while Date().timeIntervalSince1970 < deadline {
                let now = Date().timeIntervalSince1970
                if now >= nextBeat { for s in socks { try s.send(WireMessage(.heartbeat, Empty()).frames, timeoutMs: 0) }; nextBeat = now + 1 }
                while let k = held.firstIndex(where: { $0.due <= now }) {
                    let e = held.remove(at: k)
                    try socks[e.i].send(WireMessage(.done, DoneHeader(leaseToken: e.token, artifacts: [:]), payload: [Data("{}".utf8)]).frames)
                    lastDone[e.i] = Date().timeIntervalSince1970
                    completed += 1
                }
                let ready = try ZMQSocket.poll(socks, timeoutMs: 5)
                for (i, r) in ready.enumerated() where r {
                    while let f = try socks[i].receive(timeoutMs: 0), let m = try? WireMessage.parse(f) {
                        guard m.command == .assign, let h = try? m.decode(AssignHeader.self) else { continue }
                        let t = Date().timeIntervalSince1970
                        if lastDone[i] > 0 { lat.append((t - lastDone[i]) * 1000) }
                        held.append((t + hold, i, h.leaseToken))
                    }
                }
                if completed >= tasks && tasks > 0 { return }
            }
        }
        // Idle heartbeating.
        let idleSeconds = 3.0
        let cpu0 = c.coordinatorCPUSeconds()
        try pump(until: Date().timeIntervalSince1970 + idleSeconds)
        let idleCPU = (c.coordinatorCPUSeconds() - cpu0) / idleSeconds
        // Dispatch under load.
        let t0 = Date().timeIntervalSince1970
        try c.submit((0..<tasks).map { TaskDescriptor(id: "s\($0)", kind: "noop", label: "s\($0)", spec: Data("{}".utf8)) })
        let cpu1 = c.coordinatorCPUSeconds()
        try pump(until: t0 + 120)
        let wall = Date().timeIntervalSince1970 - t0
        let busyCPU = (c.coordinatorCPUSeconds() - cpu1) / wall
        let rss = Self.rssMiB()
        c.stop()
        _ = wait()
        let d: [String: Double] = ["workers": Double(n), "idle_coordinator_cpu_fraction": idleCPU, "busy_coordinator_cpu_fraction": busyCPU,
                "dispatch_ms_p50": Self.percentile(lat, 0.5), "dispatch_ms_p99": Self.percentile(lat, 0.99),
                "tasks_per_s": Double(completed) / wall, "process_rss_mib_delta": rss - rss0, "tasks": Double(completed)]
        return d
    }

    func transfers(_ dir: URL, bytes: Int) throws -> [String: Double] {
        var out: [String: Double] = [:]
        var g = SystemRandomNumberGenerator()
        var words = [UInt64](repeating: 0, count: bytes / 8)
        for i in words.indices { words[i] = g.next() }
        let blob = words.withUnsafeBytes { Data($0) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let src = dir.appendingPathComponent("blob")
        try blob.write(to: src)
        let mib = Double(bytes) / 1048576
        for curve in [false, true] {
            let run = dir.appendingPathComponent(curve ? "curve" : "plain")
            var o = Self.options("b")
            var wo = WorkerOptions(codeVersion: "b", cacheDirectory: run.appendingPathComponent("cache"))
            if curve {
                let keys = run.appendingPathComponent("keys"), allow = run.appendingPathComponent("allow")
                o.curve = try KeyFiles.generate(directory: keys, name: "server")
                wo.curve = try KeyFiles.generate(directory: allow, name: "worker")
                wo.serverPublicKey = o.curve?.publicKey
                o.allowedKeysDirectory = allow
            }
            let c = try Coordinator(runDirectory: run, bind: "tcp://127.0.0.1:*", options: o)
            let h = try c.importArtifact(src)
            try c.submit([TaskDescriptor(id: "x", kind: "fetch", label: "x", spec: Data(), inputs: ["blob": .hash(h)])])
            var seconds = 0.0
            let w = Worker(connect: c.endpoint, options: wo) { _, ctx in
                let t0 = Date()
                _ = try ctx.input("blob")
                seconds = Date().timeIntervalSince(t0)
                return TaskOutcome(result: Data("{}".utf8))
            }
            Thread { try? w.run() }.start()
            _ = Self.serve(c, mode: .allSettled)()
            out[curve ? "curve_fetch_mib_s" : "plain_fetch_mib_s"] = mib / seconds
        }
        out["raw_zmq_mib_s"] = try rawTransfer(blob) 
        out["plain_vs_raw"] = out["plain_fetch_mib_s"]! / out["raw_zmq_mib_s"]!
        return out
    }

    /// ROUTER→DEALER over loopback TCP: the same 256 KiB chunks with 10 in flight, from memory,
    /// no hashing or disk (what the protocol could reach at best).
    func rawTransfer(_ blob: Data) throws -> Double {
        let ctx = try ZMQContext()
        let server = try ZMQSocket(ctx, .router)
        try server.bind("tcp://127.0.0.1:*")
        let ep = try server.lastEndpoint()
        let client = try ZMQSocket(ctx, .dealer)
        try client.connect(ep)
        let chunk = 256 * 1024
        let serverDone = DispatchSemaphore(value: 0)
        Thread {
            while let f = try? server.receive(), f.count == 2 {
                let off = f[1].withUnsafeBytes { $0.loadUnaligned(as: Int.self) }
                if off < 0 { break }
                _ = try? server.send([f[0], blob.subdata(in: off..<min(blob.count, off + chunk))])
            }
            serverDone.signal()
        }.start()
        let t0 = Date()
        var next = 0, received = 0, inFlight = 0
        while received < blob.count {
            while inFlight < 10 && next < blob.count {
                var o = next
                try client.send([withUnsafeBytes(of: &o) { Data($0) }])
                next += chunk; inFlight += 1
            }
            guard let f = try client.receive(timeoutMs: 10_000) else { break }
            received += f[0].count; inFlight -= 1
        }
        let secs = Date().timeIntervalSince(t0)
        var stop = -1
        try client.send([withUnsafeBytes(of: &stop) { Data($0) }])
        serverDone.wait()
        return Double(blob.count) / 1048576 / secs
    }
}

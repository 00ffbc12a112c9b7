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
    @Option(help: "Threads serving the simulated workers' sockets (more did not help on 2 vCPUs).") var simThreads = 1
    @Option(help: "Run only these sections, comma-separated: single, sim, transfer (default: all).") var only: String?

    struct Report: Codable {
        var singleWorker: [String: Double] = [:]
        var simulated: [String: Double] = [:]
        var transfer: [String: Double] = [:]
    }

    func run() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("seafold-bench-cluster-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        var r = Report()
        let sections = Set((only ?? "single,sim,transfer").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        for s in sections where !["single", "sim", "transfer"].contains(s) {
            throw ValidationError("--only: unknown section '\(s)' (use single, sim, transfer)")
        }
        if sections.contains("single") { r.singleWorker = try singleWorker(root.appendingPathComponent("single"), tasks: 300) }
        if sections.contains("sim") { r.simulated = try simulated(root.appendingPathComponent("sim"), n: workers, tasks: workers * tasksPerWorker) }
        if sections.contains("transfer") { r.transfer = try transfers(root.appendingPathComponent("xfer"), bytes: mb << 20) }
        if json {
            let e = JSONEncoder(); e.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try e.encode(r), as: UTF8.self))
        } else {
            for (section, d) in [("one real worker", r.singleWorker), ("\(workers) simulated workers", r.simulated), ("transfer \(mb) MiB", r.transfer)] where !d.isEmpty {
                print(section)
                for (k, v) in d.sorted(by: { $0.key < $1.key }) { print("  " + k.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%10.3f", v)) }
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

    final class SimShared: @unchecked Sendable {
        let lock = NSLock()
        private var done = 0
        var completed: Int { lock.lock(); defer { lock.unlock() }; return done }
        func add(_ n: Int) { lock.lock(); done += n; lock.unlock() }
    }

    /// Some of the simulated workers, served by one thread.
    final class SimShard: @unchecked Sendable {
        let socks: [ZMQSocket]
        var nextBeat: [Double]
        var lastDone: [Double]
        var held: [(due: Double, i: Int, token: String)] = []
        var lat: [Double] = []
        var cpu = 0.0
        var error: Error?
        let hold: Double, target: Int, shared: SimShared
        init(socks: [ZMQSocket], phase: (Int) -> Double, hold: Double, target: Int, shared: SimShared) {
            self.socks = socks; self.hold = hold; self.target = target; self.shared = shared
            nextBeat = socks.indices.map(phase)
            lastDone = [Double](repeating: 0, count: socks.count)
        }

        func run(until deadline: Double) {
            let c0 = BenchClusterCommand.threadCPU()
            defer { cpu += BenchClusterCommand.threadCPU() - c0 }
            do { try loop(until: deadline) } catch { self.error = error }
        }

        private func loop(until deadline: Double) throws {
            var rng = SystemRandomNumberGenerator()
            while Date().timeIntervalSince1970 < deadline {
                let now = Date().timeIntervalSince1970
                for i in socks.indices where now >= nextBeat[i] {
                    try socks[i].send(WireMessage(.heartbeat, Empty()).frames, timeoutMs: 0)
                    nextBeat[i] += 1
                }
                if held.contains(where: { $0.due <= now }) {
                    var n = 0
                    for e in held where e.due <= now {
                        try socks[e.i].send(WireMessage(.done, DoneHeader(leaseToken: e.token, artifacts: [:]), payload: [Data("{}".utf8)]).frames)
                        lastDone[e.i] = Date().timeIntervalSince1970
                        n += 1
                    }
                    held.removeAll { $0.due <= now }
                    shared.add(n)
                }
                // zmq_poll over this thread's sockets at once; each ASSIGN is timestamped as it
                // is read.
                // Sleep in zmq_poll until the next heartbeat or DONE is due (an ASSIGN wakes it
                // at once): a fixed 1 ms timeout re-polled all N sockets 1000 times a second,
                // and that busy simulator competed with the coordinator for the 2 cores.
                let due = min(nextBeat.min() ?? now + 0.02, held.map(\.due).min() ?? now + 0.02, now + 0.02)
                let ready = try ZMQSocket.poll(socks, timeoutMs: Int32(max(0, (due - Date().timeIntervalSince1970) * 1000).rounded(.up)))
                for (i, r) in ready.enumerated() where r {
                    while let f = try socks[i].receive(timeoutMs: 0), let m = try? WireMessage.parse(f) {
                        guard m.command == .assign, let h = try? m.decode(AssignHeader.self) else { continue }
                        let t = Date().timeIntervalSince1970
                        if lastDone[i] > 0 { lat.append((t - lastDone[i]) * 1000) }
                        held.append((t + hold * Double.random(in: 0.5..<1.5, using: &rng), i, h.leaseToken))
                    }
                }
                if target > 0 && shared.completed >= target { return }
            }
        }
    }

    /// N DEALERs (on `simThreads` threads) that heartbeat and answer each ASSIGN with DONE after a hold.
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
        // Each simulated worker heartbeats once a second at its own phase, and holds each task
        // hold × U(0.5, 1.5): real workers do not all finish in the same millisecond. (Holding
        // exactly `hold` made all N workers send DONE in one burst every `hold`, and the figure
        // measured the queue behind that burst — the simulator's lockstep, not dispatch.)
        // The sockets are split over `simThreads` threads, each zmq_polling its share at once,
        // so one pass over all N sockets does not sit between an ASSIGN and its timestamp.
        let start = Date().timeIntervalSince1970
        let shared = SimShared()
        let k = max(1, min(simThreads, n))
        let shards = (0..<k).map { j in
            // Heartbeat phases in 10 ms steps (groups of N/100 sockets), not one wake-up per socket.
            SimShard(socks: stride(from: j, to: n, by: k).map { socks[$0] }, phase: { start + 1 + (Double($0 * k + j) / Double(n) * 100).rounded(.down) / 100 },
                     hold: Double(holdMs) / 1000, target: tasks, shared: shared)
        }
        func pump(until deadline: Double) throws {
            let group = DispatchGroup()
            for sh in shards {
                group.enter()
                Thread { sh.run(until: deadline); group.leave() }.start()
            }
            group.wait()
            if let e = shards.compactMap(\.error).first { throw e }
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
        let batches0 = c.batchTimings().count
        try pump(until: t0 + 120)
        let wall = Date().timeIntervalSince1970 - t0
        let busyCPU = (c.coordinatorCPUSeconds() - cpu1) / wall
        let simBusy = shards.map(\.cpu).reduce(0, +) / (Date().timeIntervalSince1970 - start)
        let lat = shards.flatMap(\.lat)
        let completed = shared.completed
        let rss = Self.rssMiB()
        let batches = c.batchTimings(from: batches0)
        c.stop()
        _ = wait()
        let d: [String: Double] = ["workers": Double(n), "idle_coordinator_cpu_fraction": idleCPU, "busy_coordinator_cpu_fraction": busyCPU,
                "dispatch_ms_p50": Self.percentile(lat, 0.5), "dispatch_ms_p99": Self.percentile(lat, 0.99),
                "tasks_per_s": Double(completed) / wall, "process_rss_mib_delta": rss - rss0, "tasks": Double(completed),
                "simulator_cpu_fraction": simBusy, "simulator_threads": Double(k),
                // The coordinator's own part: a drained batch that sent ASSIGNs, from its first
                // message received to its ASSIGNs sent (wall, and CPU of the serving thread).
                "coordinator_batch_wall_ms_p50": Self.percentile(batches.wallMs, 0.5), "coordinator_batch_wall_ms_p99": Self.percentile(batches.wallMs, 0.99),
                "coordinator_batch_cpu_ms_p50": Self.percentile(batches.cpuMs, 0.5), "coordinator_batch_cpu_ms_p99": Self.percentile(batches.cpuMs, 0.99)]
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
                wo.workerID = WorkerOptions.uniqueID(name: "worker")   // the key decides the id
                wo.serverPublicKey = o.curve?.publicKey
                o.allowedKeysDirectory = allow
            }
            let c = try Coordinator(runDirectory: run, bind: "tcp://127.0.0.1:*", options: o)
            let h = try c.importArtifact(src)
            try c.submit([TaskDescriptor(id: "x", kind: "fetch", label: "x", spec: Data(), inputs: ["blob": .hash(h)])])
            var seconds = 0.0, upSeconds = 0.0
            // Every timed transfer starts with no dirty pages of earlier steps (the source file,
            // the import into the run's store, earlier copies): on ext4 an fsync can end up
            // flushing them too, which charged whichever transfer ran later for earlier writes.
            sync()
            let w = Worker(connect: c.endpoint, options: wo) { _, ctx in
                let t0 = Date()
                let fetched = try ctx.input("blob")
                seconds = Date().timeIntervalSince(t0)
                // The other direction: an upload of as many bytes the coordinator does not have
                // yet (one byte changed), timed from the request to the acknowledged store.
                var other = try Data(contentsOf: fetched)
                other[0] ^= 0xFF
                let up = ctx.scratchDirectory.appendingPathComponent("up")
                try other.write(to: up)
                let t1 = Date()
                try ctx.saveCheckpoint(up)
                upSeconds = Date().timeIntervalSince(t1)
                return TaskOutcome(result: Data("{}".utf8))
            }
            Thread { try? w.run() }.start()
            _ = Self.serve(c, mode: .allSettled)()
            out[curve ? "curve_fetch_mib_s" : "plain_fetch_mib_s"] = mib / seconds
            out[curve ? "curve_upload_mib_s" : "plain_upload_mib_s"] = mib / upSeconds
        }
        sync()
        out["raw_zmq_mib_s"] = try rawTransfer(blob)
        sync()
        let rawStore = try ArtifactStore(root: dir.appendingPathComponent("raw-store"))
        out["raw_zmq_store_mib_s"] = try rawTransfer(blob, file: src, into: rawStore)
        // The store's own cost without a network: sha256 + write + fsync + rename from memory,
        // the same background writer a fetch uses (a ceiling for any fetch into a store).
        let store = try ArtifactStore(root: dir.appendingPathComponent("local"))
        sync()
        let t0 = Date()
        let w = try store.beginWrite(background: true)
        var off = 0
        while off < blob.count { try w.append(blob.subdata(in: off..<min(blob.count, off + WireProtocol.chunkSize))); off += WireProtocol.chunkSize }
        try w.commit(expected: nil)
        out["local_store_write_mib_s"] = mib / Date().timeIntervalSince(t0)
        // SHA-256 alone (libcrypto, in memory, one thread): every fetch hashes every byte.
        let h0 = Date()
        _ = ArtifactStore.sha256(blob)
        out["sha256_mib_s"] = mib / Date().timeIntervalSince(h0)
        out["plain_vs_raw"] = out["plain_fetch_mib_s"]! / out["raw_zmq_mib_s"]!
        out["plain_vs_raw_store"] = out["plain_fetch_mib_s"]! / out["raw_zmq_store_mib_s"]!
        // The most any fetch into a store could reach against memory-to-memory raw ZeroMQ here.
        out["local_store_vs_raw"] = out["local_store_write_mib_s"]! / out["raw_zmq_mib_s"]!
        return out
    }

    /// ROUTER→DEALER over loopback TCP: the same `chunkSize` chunks with `credit` in flight. Without
    /// `file`, from memory into memory, no hashing or disk (the network's ceiling). With `file`
    /// and `into`, the same work a fetch does minus the protocol: the server reads each chunk
    /// from the file, the client streams it into the artifact store with the same background
    /// writer a fetch uses (sha256, write, then fsync, hash check and rename), with no headers,
    /// no JSON and no runner/I-O thread hand-off.
    func rawTransfer(_ blob: Data, file: URL? = nil, into store: ArtifactStore? = nil) throws -> Double {
        let ctx = try ZMQContext()
        let server = try ZMQSocket(ctx, .router)
        try server.bind("tcp://127.0.0.1:*")
        let ep = try server.lastEndpoint()
        let client = try ZMQSocket(ctx, .dealer)
        try client.connect(ep)
        let chunk = WireProtocol.chunkSize
        let fh = try file.map { try FileHandle(forReadingFrom: $0) }
        defer { try? fh?.close() }
        let serverDone = DispatchSemaphore(value: 0)
        Thread {
            while let f = try? server.receive(), f.count == 2 {
                let off = f[1].withUnsafeBytes { $0.loadUnaligned(as: Int.self) }
                if off < 0 { break }
                if let fh {
                    try? fh.seek(toOffset: UInt64(off))
                    _ = try? server.send([f[0], (try? fh.read(upToCount: chunk)) ?? Data()])
                } else {
                    _ = try? server.send([f[0], blob.subdata(in: off..<min(blob.count, off + chunk))])
                }
            }
            serverDone.signal()
        }.start()
        let expected = store == nil ? "" : ArtifactStore.sha256(blob)
        let t0 = Date()
        let sink = try store?.beginWrite(background: true)
        var next = 0, received = 0, inFlight = 0
        while received < blob.count {
            while inFlight < WireProtocol.credit && next < blob.count {
                var o = next
                try client.send([withUnsafeBytes(of: &o) { Data($0) }])
                next += chunk; inFlight += 1
            }
            guard let f = try client.receive(timeoutMs: 10_000) else { break }
            try sink?.append(f[0])
            received += f[0].count; inFlight -= 1
        }
        if let sink { try sink.commit(expected: expected) }
        let secs = Date().timeIntervalSince(t0)
        var stop = -1
        try client.send([withUnsafeBytes(of: &stop) { Data($0) }])
        serverDone.wait()
        return Double(blob.count) / 1048576 / secs
    }
}

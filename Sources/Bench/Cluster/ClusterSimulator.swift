import Cluster
import Foundation

/// `seafold bench cluster`'s simulated workers: N ZeroMQ DEALERs that speak the worker
/// protocol (READY, heartbeats, DONE after holding each ASSIGN), served by a few threads, against
/// a real coordinator whose own CPU time and batch latency `CoordinatorMeter` measures.
extension BenchClusterCommand {
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
            let c0 = CoordinatorMeter.threadCPU()
            defer { cpu += CoordinatorMeter.threadCPU() - c0 }
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
        let meter = CoordinatorMeter()
        var options = Self.options("b")
        options.loopObserver = meter.observe
        let c = try Coordinator(runDirectory: dir, bind: "tcp://127.0.0.1:*", options: options)
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
        let cpu0 = meter.coordinatorCPUSeconds()
        try pump(until: Date().timeIntervalSince1970 + idleSeconds)
        let idleCPU = (meter.coordinatorCPUSeconds() - cpu0) / idleSeconds
        // Dispatch under load.
        let t0 = Date().timeIntervalSince1970
        try c.submit((0..<tasks).map { TaskDescriptor(id: "s\($0)", kind: "noop", label: "s\($0)", spec: Data("{}".utf8)) })
        let cpu1 = meter.coordinatorCPUSeconds()
        let batches0 = meter.batchTimings().count
        try pump(until: t0 + 120)
        let wall = Date().timeIntervalSince1970 - t0
        let busyCPU = (meter.coordinatorCPUSeconds() - cpu1) / wall
        let simBusy = shards.map(\.cpu).reduce(0, +) / (Date().timeIntervalSince1970 - start)
        let lat = shards.flatMap(\.lat)
        let completed = shared.completed
        let rss = Self.rssMiB()
        let batches = meter.batchTimings(from: batches0)
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
}

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
        Thread { let t0 = CoordinatorMeter.threadCPU(); box.st = try? c.run(until: mode); box.cpu = CoordinatorMeter.threadCPU() - t0; done.signal() }.start()
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
}

import ArgumentParser
import Engine
import Foundation
import Pipeline
import Terminal

/// `seafold bench run`: the whole experiment. (a) The demo preset's wall time, run for real by
/// `seafold run` (coordinator + local worker processes over loopback) in fresh temporary run
/// directories, with 2 workers × 1 thread and with 1 worker × 2 threads, and the speedup.
/// (b) The paper preset projected: unit costs measured at its shapes (`RunProjection`), every
/// task of the planner's graph priced, the total CPU time, the critical path, and the makespan
/// on `--cluster-workers` workers under list scheduling (longest first, and the coordinator's
/// priority rule).
struct BenchRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Whole-run wall time (demo, 2×1 vs 1×2) and the paper preset's projected time.")

    @Flag(help: "Skip the demo wall-time runs (they take minutes).") var skipDemo = false
    @Flag(help: "Skip the paper projection.") var skipProjection = false
    @Option(help: "Preset whose wall time is measured.") var demoPreset: String = "demo"
    @Option(help: "Pairs of demo runs; the order alternates (2×1 first, then 1×2 first) against drift; medians reported.")
    var repeats: Int = 1
    @Option(help: "Preset projected.") var projectPreset: String = "paper"
    @Option(help: "Timed training steps per kind in the projection (after one warm-up).") var steps: Int = 3
    @Option(help: "Engine threads of the projection's measurements (one worker's).") var threads: Int = 1
    @Option(help: "Workers of the projected cluster.") var clusterWorkers: Int = 9
    @Flag(help: "Print JSON.") var json = false

    struct DemoRun: Codable { var workers: Int; var threads: Int; var seconds: Double; var exitCode: Int32 }
    struct ShardRow: Codable { var shard: String; var kind: String; var hours: Double; var basis: String }
    struct Projection: Codable {
        var preset: String
        var costs: RunProjection.UnitCosts
        var tasks: [RunProjection.TaskProjection]
        var totalCPUHours: Double
        var criticalPathHours: Double
        var workers: Int
        var makespanLongestFirstHours: Double
        var makespanPriorityHours: Double
        var hoursByKind: [String: Double]
    }
    struct Output: Codable {
        var blasKernel: String
        var demo: [DemoRun]
        var demoSpeedup2x1Over1x2: Double?
        var projection: Projection?
    }

    func run() throws {
        var out = Output(blasKernel: BLASKernel.corename, demo: [], demoSpeedup2x1Over1x2: nil, projection: nil)
        if !skipDemo {
            for r in 0..<max(repeats, 1) {
                for (w, t) in r % 2 == 0 ? [(2, 1), (1, 2)] : [(1, 2), (2, 1)] {
                    let run = try demoRun(workers: w, threads: t)
                    if !json { print(String(format: "%@ preset, %d worker%@ × %d thread%@: %.1f s wall (exit %d)", demoPreset, w, w == 1 ? "" : "s", t, t == 1 ? "" : "s", run.seconds, run.exitCode)) }
                    out.demo.append(run)
                }
            }
            func median(_ w: Int) -> Double? {
                let s = out.demo.filter { $0.workers == w && $0.exitCode == 0 }.map(\.seconds)
                return s.isEmpty ? nil : EngineBenchmark.median(s)
            }
            if out.demo.allSatisfy({ $0.exitCode == 0 }), let two = median(2), let one = median(1) {
                out.demoSpeedup2x1Over1x2 = one / two
                if !json { print(String(format: "speedup of 2 workers × 1 thread over 1 worker × 2 threads (medians): %.2f×", one / two)) }
            }
        }
        if !skipProjection { out.projection = try project() }
        if json { try Console.printJSON(out) }
    }

    /// Runs `seafold run --preset P` in a fresh temporary run directory and times it.
    func demoRun(workers: Int, threads: Int) throws -> DemoRun {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seafold-bench-run-\(getpid())-\(workers)x\(threads)")
        try? FileManager.default.removeItem(at: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.executablePath)
        p.arguments = ["run", "--preset", demoPreset, "--run-dir", dir.appendingPathComponent("run").path,
                       "--workers", String(workers), "--threads", String(threads), "--json"]
        let log = dir.appendingPathComponent("out.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let h = try FileHandle(forWritingTo: log)
        p.standardOutput = h
        p.standardError = h
        if !json { Console.status("running `seafold run --preset \(demoPreset) --workers \(workers) --threads \(threads)`") }
        let t0 = Date()
        try p.run()
        p.waitUntilExit()
        let seconds = Date().timeIntervalSince(t0)
        Console.endStatus()
        if p.terminationStatus != 0 {
            let tail = (try? String(contentsOf: log, encoding: .utf8)).map { String($0.suffix(2000)) } ?? ""
            Console.warn("seafold run exited with \(p.terminationStatus):\n\(tail)")
        }
        return DemoRun(workers: workers, threads: threads, seconds: seconds, exitCode: p.terminationStatus)
    }

    func project() throws -> Projection {
        guard let text = Presets.yaml(projectPreset) else { throw ValidationError("unknown preset '\(projectPreset)'") }
        let config = try ConfigLoader.parse(text)
        let datasets = try RunProjection.summaries(config)
        let graph = try Planner.plan(config, datasets: datasets)
        BLASKernel.setThreads(threads)
        let costs = try RunProjection.measure(config, graph: graph, datasets: datasets, steps: steps, threads: threads,
                                              progress: { if !json { Console.status("measuring: " + $0) } })
        Console.endStatus()
        let tasks = try RunProjection.project(config, graph: graph, datasets: datasets, costs: costs)
        let jobs = RunProjection.jobs(tasks)
        let lpt = try ScheduleSimulation.simulate(jobs, workers: clusterWorkers, policy: .longestFirst)
        let prio = try ScheduleSimulation.simulate(jobs, workers: clusterWorkers, policy: .priority)
        var byKind: [String: Double] = [:]
        for t in tasks { byKind[t.kind, default: 0] += t.seconds / 3600 }
        let p = Projection(preset: projectPreset, costs: costs, tasks: tasks, totalCPUHours: lpt.totalSeconds / 3600,
                           criticalPathHours: lpt.criticalPath / 3600, workers: clusterWorkers,
                           makespanLongestFirstHours: lpt.makespan / 3600, makespanPriorityHours: prio.makespan / 3600, hoursByKind: byKind)
        if !json { printTable(p) }
        return p
    }

    func printTable(_ p: Projection) {
        let c = p.costs
        print("\nProjection of the \(p.preset) preset (\(p.tasks.count) tasks; unit costs measured now, \(c.threads) engine thread(s) per worker, BLAS \(BLASKernel.corename)):")
        print(String(format: "  fine-tune step %.3f s, pretrain step %.3f s, inference %.1f ms/img, LIME explanation %.1f s (+ segmentation %.2f s, %d segments), divergence %.1f s",
                     c.trainStepSeconds, c.pretrainStepSeconds, c.inferenceImageSeconds * 1000, c.limeExplainSeconds, c.limeSegmentationSeconds,
                     c.limeSegments, c.divergenceSeconds))
        print("\n| task | projected hours | basis |\n|---|---:|---|")
        // Heads are many and small: one line per (dataset, head) group.
        var headGroups: [String: (n: Int, s: Double)] = [:]
        for t in p.tasks {
            if t.kind == "heads" {
                let key = t.label.components(separatedBy: " ").first ?? "heads"
                headGroups[key, default: (0, 0)].n += 1
                headGroups[key, default: (0, 0)].s += t.seconds
                continue
            }
            print(String(format: "| %@ | %.2f | %@ |", t.label, t.seconds / 3600, t.basis))
        }
        for (k, v) in headGroups.sorted(by: { $0.key < $1.key }) {
            print(String(format: "| %d %@ heads (all shards) | %.3f | measured in full per dataset |", v.n, k, v.s / 3600))
        }
        print(String(format: "\ntotal CPU time %.1f h; critical path %.1f h; on %d workers: makespan %.1f h longest-first, %.1f h with the coordinator's priority rule",
                     p.totalCPUHours, p.criticalPathHours, p.workers, p.makespanLongestFirstHours, p.makespanPriorityHours))
    }
}

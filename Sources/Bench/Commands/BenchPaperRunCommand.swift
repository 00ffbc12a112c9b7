import ArgumentParser
import Cluster
import Engine
import Foundation
import Pipeline
import Terminal

/// `seafold bench paper-run`: the paper preset (224 px, full AlexNet) through a coordinator and
/// worker processes on this machine for a bounded time, measured from the outside: epochs per
/// hour per worker (from the live progress the ledger keeps), checkpoint uploads and their
/// share of the workers' time (from the workers' logs), lost workers and stale results (from
/// events.jsonl), and the run directory's growth. With `--pretrained random` (the default) the
/// fine-tunes start at once; the preset's synthetic pretraining would be the only task running
/// for hours and measure nothing of the cluster's fine-tune path.
struct BenchPaperRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "paper-run", abstract: "Run the paper preset through coordinator and workers for a bounded time and measure it.")

    @Option(help: "Minutes to run before stopping everything.") var minutes: Double = 20
    @Option(help: "Worker processes.") var workers: Int = 2
    @Option(help: "BLAS threads per worker.") var threads: Int = 1
    @Option(help: "Pretrained weights: random (fine-tunes start at once), synthetic (the preset's own), or a file.")
    var pretrained: String = "random"
    @Option(help: "Run directory (default: a fresh temporary one, removed afterwards).") var runDir: String?
    @Option(help: "Seconds between samples.") var sample: Double = 5
    @Flag(help: "Print JSON.") var json = false

    /// `epochs`: "worker|task" → (epochs finished, of how many) for each running fine-tune.
    struct Sample: Codable { var t: Double; var runBytes: Int64; var epochs: [String: [Int]] }
    struct Output: Codable {
        var blasKernel: String
        var sgemm2048GFLOPs: Double
        var minutes: Double
        var workers: Int
        var threads: Int
        var pretrained: String
        var tasksDone: Int
        var epochsPerHourPerWorker: [String: Double]
        var checkpointsStored: Int
        var checkpointsDeclined: Int
        var checkpointUploadSeconds: [Double]
        var checkpointUploadShare: Double
        var lostWorkers: Int
        var staleResults: Int
        var runDirectoryGrowthMBPerHour: Double
        var runDirectoryFinalMB: Double
    }

    func run() throws {
        let exe = CommandLine.executablePath
        let base = runDir.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("seafold-paper-run-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { if runDir == nil { try? FileManager.default.removeItem(at: base) } }
        let cfg = base.appendingPathComponent("paper-run.yaml")
        try "preset: paper\nname: paper-run\npretrained: \(pretrained)\n".write(to: cfg, atomically: true, encoding: .utf8)
        let run = base.appendingPathComponent("run")
        let logs = base.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let gflops = EngineBenchmark.sgemmGFLOPs(m: 2048, k: 2048, n: 2048, repeats: 3)
        let port = 20_000 + Int.random(in: 0..<20_000)
        func start(_ args: [String], _ log: String) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = args
            let url = logs.appendingPathComponent(log)
            FileManager.default.createFile(atPath: url.path, contents: nil)
            let h = try FileHandle(forWritingTo: url)
            p.standardOutput = h; p.standardError = h
            try p.run()
            return p
        }
        Console.info("bench paper-run: preparing the paper preset's datasets and plan in \(run.path) …")
        let coordinator = try start(["coordinator", "--config", cfg.path, "--run-dir", run.path, "--bind", "tcp://127.0.0.1:\(port)"], "coordinator.log")
        var procs = [coordinator]
        defer { for p in procs where p.isRunning { p.terminate() }; for p in procs { p.waitUntilExit() } }
        // The coordinator prepares the packs (a minute or two at 224 px) before it binds.
        while coordinator.isRunning && !FileManager.default.fileExists(atPath: run.appendingPathComponent("ledger.sqlite").path) { usleep(200_000) }
        for i in 0..<workers {
            procs.append(try start(["worker", "--connect", "tcp://127.0.0.1:\(port)", "--name", "bench-\(i + 1)", "--threads", String(threads),
                                    "--cache", base.appendingPathComponent("cache-\(i + 1)").path], "worker-\(i + 1).log"))
        }
        let t0 = Date()
        var samples: [Sample] = []
        while Date().timeIntervalSince(t0) < minutes * 60 && coordinator.isRunning {
            usleep(UInt32(sample * 1e6))
            let status = try? Ledger(runDirectory: run).status()
            var epochs: [String: [Int]] = [:]
            for r in status?.runningTasks ?? [] where r.label.hasPrefix("finetune") {
                if let e = PaperRunMeasure.epochs(r.message) { epochs["\(r.worker)|\(r.id)"] = [e.done, e.of] }
            }
            samples.append(Sample(t: Date().timeIntervalSince(t0), runBytes: DiskBudget.bytesUnder(run), epochs: epochs))
            if !json { Console.status(String(format: "bench paper-run: %.0f/%.0f min, %d tasks running", Date().timeIntervalSince(t0) / 60, minutes, status?.running ?? 0)) }
        }
        Console.endStatus()
        let wall = Date().timeIntervalSince(t0)
        for p in procs where p.isRunning { p.terminate() }
        for p in procs { p.waitUntilExit() }
        let out = try PaperRunMeasure.summarize(run: run, logs: logs, samples: samples, wall: wall, workers: workers,
                                                header: (BLASKernel.corename, gflops, minutes, threads, pretrained))
        if json { try Console.printJSON(out); return }
        print(String(format: "paper preset (pretrained: %@), %d workers × %d threads, %.1f min, BLAS %@, sgemm 2048² %.0f GFLOP/s", pretrained, workers, threads, wall / 60, out.blasKernel, out.sgemm2048GFLOPs))
        for (w, r) in out.epochsPerHourPerWorker.sorted(by: { $0.key < $1.key }) { print(String(format: "  %@: %.1f fine-tune epochs/hour", w, r)) }
        print(String(format: "  tasks done %d; checkpoints stored %d, declined %d; uploads %@ s; upload share of worker time %.2f %%", out.tasksDone, out.checkpointsStored, out.checkpointsDeclined,
                     out.checkpointUploadSeconds.map { String(format: "%.1f", $0) }.joined(separator: ", "), out.checkpointUploadShare * 100))
        print(String(format: "  lost workers %d, stale results %d; run directory %.0f MB, growing %.0f MB/hour", out.lostWorkers, out.staleResults, out.runDirectoryFinalMB, out.runDirectoryGrowthMBPerHour))
    }
}

/// The arithmetic of `bench paper-run`, from its samples, the run's events and the workers' logs.
enum PaperRunMeasure {
    /// (finished, total) from a training progress message "… epoch 12/100 loss …".
    static func epochs(_ message: String) -> (done: Int, of: Int)? {
        let words = message.split(separator: " ")
        guard let i = words.firstIndex(of: "epoch"), i + 1 < words.count else { return nil }
        let parts = words[i + 1].split(separator: "/")
        guard parts.count == 2, let d = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        return (d, n)
    }

    static func summarize(run: URL, logs: URL, samples: [BenchPaperRunCommand.Sample], wall: Double, workers: Int,
                          header: (String, Double, Double, Int, String)) throws -> BenchPaperRunCommand.Output {
        // Epochs: for each (worker, task), the largest epoch seen minus the first seen (an epoch
        // counted only once it finished within the window).
        var first: [String: Int] = [:], last: [String: Int] = [:], total: [String: Int] = [:]
        for s in samples { for (k, e) in s.epochs { if first[k] == nil { first[k] = e[0] }; last[k] = e[0]; total[k] = e[1] } }
        // A fine-tune that finished between two samples finished all its epochs.
        let states = Dictionary(((try? Ledger(runDirectory: run).tasks()) ?? []).map { ($0.id, $0.state) }, uniquingKeysWith: { a, _ in a })
        for k in last.keys where states[String(k.split(separator: "|")[1])] == .done { last[k] = total[k] }
        var perWorker: [String: Int] = [:]
        for (k, e) in last { perWorker[String(k.split(separator: "|")[0]), default: 0] += e - (first[k] ?? e) }
        let hours = max(wall, 1) / 3600
        let events = (try? String(contentsOf: run.appendingPathComponent("events.jsonl"), encoding: .utf8)) ?? ""
        func count(_ kind: String) -> Int { events.components(separatedBy: "\"kind\":\"\(kind)\"").count - 1 }
        var uploads: [Double] = []
        for f in (try? FileManager.default.contentsOfDirectory(atPath: logs.path)) ?? [] where f.hasPrefix("worker") {
            let text = (try? String(contentsOf: logs.appendingPathComponent(f), encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") where line.contains("stored on the coordinator:") {
                if let s = line.split(separator: " ").reversed().dropFirst().first, let v = Double(s) { uploads.append(v) }
            }
        }
        let growth: Double
        if let a = samples.first, let b = samples.last, b.t > a.t { growth = Double(b.runBytes - a.runBytes) / 1e6 / ((b.t - a.t) / 3600) } else { growth = 0 }
        return BenchPaperRunCommand.Output(
            blasKernel: header.0, sgemm2048GFLOPs: header.1, minutes: header.2, workers: workers, threads: header.3, pretrained: header.4,
            tasksDone: count("done"), epochsPerHourPerWorker: perWorker.mapValues { Double($0) / hours },
            checkpointsStored: count("checkpoint"), checkpointsDeclined: count("checkpoint-declined"), checkpointUploadSeconds: uploads,
            checkpointUploadShare: uploads.reduce(0, +) / (wall * Double(max(workers, 1))),
            lostWorkers: count("worker-lost") + count("worker-reconnected"), staleResults: count("stale"),
            runDirectoryGrowthMBPerHour: growth, runDirectoryFinalMB: Double(samples.last?.runBytes ?? 0) / 1e6)
    }
}

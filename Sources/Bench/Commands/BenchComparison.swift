import Engine
import Foundation

/// The interleaved comparisons of `seafold bench engine`: seafold's full-AlexNet round
/// (train step, batch-64 inference, sgemm) alternating with PyTorch's (bench/pytorch_alexnet.py)
/// and/or with this program under glibc's default malloc, so every ratio compares figures
/// taken minutes apart at most on a machine whose speed drifts.
struct Comparison: Codable {
    struct TorchRound: Codable {
        var sgemmSquare2048GFLOPs: Double, trainStepSeconds: Double, inferenceImagesPerSecondBatch64: Double
    }
    var rounds: [EngineBenchmark.RoundFigures] = []
    var torch: [TorchRound] = []
    /// This process's malloc setting ("default" unless SEAFOLD_MALLOC=tuned); `rounds` ran under it.
    var thisProcessMalloc = "default"
    /// The child's rounds under the other setting (named for the original default-malloc child).
    var defaultMalloc: [EngineBenchmark.RoundFigures] = []
    var torchCommand: String?
    /// Median over rounds of (ours / PyTorch's) train-step seconds; goal ≤ 0.7.
    var trainStepRatio: Double?
    /// Median over rounds of (ours / PyTorch's) batch-64 inference images/s; goal ≥ 1.3.
    var inferenceB64Ratio: Double?
    /// Median over rounds of (tuned / default malloc) train-step seconds.
    var mallocTrainStepRatio: Double?

    static var parentTuned: Bool { ProcessInfo.processInfo.environment["SEAFOLD_MALLOC"] == "tuned" }

    static func median(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : EngineBenchmark.median(xs) }

    static func run(pytorch: Bool, script: String?, mallocCompare: Bool, rounds: Int, repeats: Int,
                    threads: Int, progress: (String) -> Void) throws -> Comparison {
        var c = Comparison()
        c.thisProcessMalloc = parentTuned ? "tuned" : "default"
        var py: (python: String, script: String)?
        if pytorch {
            py = try locatePyTorch(script: script)
            c.torchCommand = "MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 \(py!.python) \(py!.script) --threads \(threads) --repeats \(repeats) --json"
        }
        let rig = try EngineBenchmark.Rig()
        for r in 0..<rounds {
            progress("comparison round \(r + 1)/\(rounds): seafold")
            c.rounds.append(try rig.round(repeats: repeats))
            if let py {
                progress("comparison round \(r + 1)/\(rounds): PyTorch")
                let env = ["MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": "100000000000"]
                let out = try runChild(py.python, [py.script, "--threads", "\(threads)", "--repeats", "\(repeats)", "--json"], env: env)
                guard let obj = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any],
                      let sg = obj["sgemm_2048_gflops"] as? Double, let tr = obj["train_step_s"] as? Double,
                      let inf = obj["inference_b64_img_s"] as? Double else {
                    throw BenchError("\(py.script) printed no JSON with sgemm_2048_gflops, train_step_s and inference_b64_img_s:\n\(out)")
                }
                c.torch.append(TorchRound(sgemmSquare2048GFLOPs: sg, trainStepSeconds: tr, inferenceImagesPerSecondBatch64: inf))
            }
            if mallocCompare {
                progress("comparison round \(r + 1)/\(rounds): seafold with the other malloc setting")
                let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
                let out = try runChild(exe, ["bench", "engine", "--round-only", "--repeats", "\(repeats)", "--threads", "\(threads)"],
                                       env: ["SEAFOLD_MALLOC": parentTuned ? "default" : "tuned"])
                guard let line = out.split(separator: "\n").last,
                      let f = try? JSONDecoder().decode(EngineBenchmark.RoundFigures.self, from: Data(line.utf8)) else {
                    throw BenchError("child 'bench engine --round-only' printed no figures:\n\(out)")
                }
                c.defaultMalloc.append(f)
            }
        }
        if !c.torch.isEmpty {
            c.trainStepRatio = median(zip(c.rounds, c.torch).map { $0.trainStepSeconds / $1.trainStepSeconds })
            c.inferenceB64Ratio = median(zip(c.rounds, c.torch).map { $0.inferenceImagesPerSecondBatch64 / $1.inferenceImagesPerSecondBatch64 })
        }
        if !c.defaultMalloc.isEmpty {
            // Oriented as tuned / default whichever side ran in this process.
            c.mallocTrainStepRatio = median(zip(c.rounds, c.defaultMalloc).map {
                parentTuned ? $0.trainStepSeconds / $1.trainStepSeconds : $1.trainStepSeconds / $0.trainStepSeconds })
        }
        return c
    }

    func printTable() {
        print("Interleaved comparison, AlexNet 224 px, 1000 classes (train: batch 6, Adam; inference: batch 64)")
        for (i, s) in rounds.enumerated() {
            print(String(format: "  round %d seafold (\(thisProcessMalloc == "tuned" ? "tuned  " : "default") malloc): train %.3f s   inference b64 %.1f img/s   sgemm 2048 %.0f GFLOP/s",
                         i + 1, s.trainStepSeconds, s.inferenceImagesPerSecondBatch64, s.sgemmSquare2048GFLOPs))
            if i < torch.count {
                let t = torch[i]
                print(String(format: "  round %d PyTorch:                 train %.3f s   inference b64 %.1f img/s   sgemm 2048 %.0f GFLOP/s",
                             i + 1, t.trainStepSeconds, t.inferenceImagesPerSecondBatch64, t.sgemmSquare2048GFLOPs))
            }
            if i < defaultMalloc.count {
                let d = defaultMalloc[i]
                print(String(format: "  round %d seafold (\(thisProcessMalloc == "tuned" ? "default" : "tuned  ") malloc): train %.3f s   inference b64 %.1f img/s   sgemm 2048 %.0f GFLOP/s",
                             i + 1, d.trainStepSeconds, d.inferenceImagesPerSecondBatch64, d.sgemmSquare2048GFLOPs))
            }
        }
        if let r = trainStepRatio, let q = inferenceB64Ratio {
            print(String(format: "  train step seafold/PyTorch %.2f (goal ≤ 0.7); inference b64 seafold/PyTorch %.2f (goal ≥ 1.3); medians of per-round ratios", r, q))
        }
        if let cmd = torchCommand { print("  PyTorch side: " + cmd) }
        if let m = mallocTrainStepRatio {
            print(String(format: "  train step tuned malloc (SEAFOLD_MALLOC=tuned) / glibc default %.3f (median of per-round ratios)", m))
        }
    }

    /// python3 and the script, or an error saying what to install / where to point.
    static func locatePyTorch(script: String?) throws -> (python: String, script: String) {
        let fm = FileManager.default
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        guard let python = path.map({ "\($0)/python3" }).first(where: { fm.isExecutableFile(atPath: $0) }) else {
            throw BenchError("--pytorch needs python3 on PATH: install it (Debian: apt-get install python3) and then torch (pip install torch)")
        }
        let found: String?
        if let s = script {
            guard fm.fileExists(atPath: s) else { throw BenchError("--pytorch-script \(s): no such file") }
            found = s
        } else {
            var dirs: [URL] = []
            var d = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            while d.path != "/" { dirs.append(d); d = d.deletingLastPathComponent() }
            dirs.append(URL(fileURLWithPath: fm.currentDirectoryPath))
            found = dirs.map { $0.appendingPathComponent("bench/pytorch_alexnet.py").path }.first { fm.fileExists(atPath: $0) }
        }
        guard let scriptPath = found else {
            throw BenchError("--pytorch: bench/pytorch_alexnet.py not found above the executable or in the current directory; pass --pytorch-script PATH")
        }
        do { _ = try runChild(python, ["-c", "import torch"], env: [:]) } catch {
            throw BenchError("--pytorch needs PyTorch for \(python): install it with 'pip install torch' (\(error))")
        }
        return (python, scriptPath)
    }

    /// Runs a child to completion; its stdout, or an error with its stderr.
    static func runChild(_ exe: String, _ args: [String], env: [String: String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw BenchError("\(exe) \(args.joined(separator: " ")) exited \(p.terminationStatus): \(String(decoding: e, as: UTF8.self).suffix(600))")
        }
        return String(decoding: o, as: UTF8.self)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

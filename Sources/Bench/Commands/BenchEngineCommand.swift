import ArgumentParser
import Engine
import Foundation

/// `seafold bench engine`: AlexNet train-step and inference speed, FLOPs, same-run sgemm speed,
/// the BLAS kernel in use, and peak memory. Progress goes to stderr on a terminal only.
struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Benchmark the CNN engine: full AlexNet 224 px batch 6 and the fast preset's shape.")

    @Flag(name: .long, help: "Print one JSON object instead of a table.")
    var json = false

    @Option(name: .long, help: "Timed repetitions per figure (median reported).")
    var repeats: Int = 5

    @Flag(name: .long, help: "Fewer repetitions (2) for a rough figure.")
    var quick = false

    @Option(name: .long, help: "Threads for sgemm and the engine's loops.")
    var threads: Int = 2

    @Flag(name: .long, help: "Also run bench/pytorch_alexnet.py (python3 with torch) interleaved with seafold's own rounds and print the ratios.")
    var pytorch = false

    @Option(name: .long, help: "Path of pytorch_alexnet.py (default: bench/pytorch_alexnet.py found above the executable or in the current directory).")
    var pytorchScript: String?

    @Flag(name: .long, help: "Also measure the rounds under the other malloc setting (a child process with SEAFOLD_MALLOC=tuned, or =default when this one is tuned), interleaved.")
    var mallocCompare = false

    @Option(name: .long, help: "Interleaved rounds for --pytorch / --malloc-compare (each side measured this many times).")
    var rounds: Int = 2

    @Flag(name: .long, help: .hidden)
    var roundOnly = false

    func validate() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    struct Output: Codable {
        var blasKernel: String
        var threads: Int
        var sgemmSquare2048GFLOPs: Double
        var shapes: [EngineBenchmark.ShapeFigures]
        var peakRSSBytes: Int
        var pytorchReference: String
        var comparison: Comparison?
    }

    func run() throws {
        BLASKernel.setThreads(threads)
        let reps = quick ? 2 : repeats
        let tty = isatty(2) != 0
        let progress: (String) -> Void = { msg in
            if tty { FileHandle.standardError.write(("bench engine: " + msg + "\n").data(using: .utf8)!) }
        }
        if roundOnly {
            // Child mode for --malloc-compare: one round of the headline figures as JSON.
            let r = try EngineBenchmark.Rig().round(repeats: reps)
            print(String(decoding: try JSONEncoder().encode(r), as: UTF8.self))
            return
        }
        var comparison: Comparison?
        if pytorch || mallocCompare {
            comparison = try Comparison.run(pytorch: pytorch, script: pytorchScript, mallocCompare: mallocCompare,
                                            rounds: rounds, repeats: reps, threads: threads, progress: progress)
        }
        progress("sgemm 2048³")
        let square = EngineBenchmark.sgemmGFLOPs(m: 2048, k: 2048, n: 2048, repeats: max(3, reps))
        let full = try EngineBenchmark.measure(label: "AlexNet 224 px, 1000 classes, batch 6",
                                               config: AlexNetConfig(numClasses: 1000), batch: 6, repeats: reps, progress: progress)
        let fastCfg = AlexNetConfig(numClasses: 10, widthMultiplier: 0.25, inputSize: 96, hiddenWidth: 512)
        let fast = try EngineBenchmark.measure(label: "fast preset: width 0.25, 96 px, hidden 512, 10 classes, batch 6",
                                               config: fastCfg, batch: 6, repeats: reps, progress: progress)
        let out = Output(blasKernel: BLASKernel.corename, threads: threads, sgemmSquare2048GFLOPs: square,
                         shapes: [full, fast], peakRSSBytes: EngineBenchmark.peakRSSBytes(),
                         pytorchReference: comparison == nil ? "not measured: add --pytorch to time PyTorch on the same shapes in this run (bench/pytorch_alexnet.py)" : "measured in this run (comparison)",
                         comparison: comparison)
        if json {
            let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(out), as: UTF8.self))
            return
        }
        print("BLAS kernel: \(out.blasKernel), threads: \(threads), repeats: \(reps) (medians)")
        print(String(format: "sgemm square 2048: %.0f GFLOP/s", square))
        for s in out.shapes {
            print("")
            print(s.label + String(format: " — %.1f M parameters", Double(s.parameters) / 1e6))
            print(String(format: "  forward FLOPs/image       %.3f G", s.forwardFlopsPerImage / 1e9))
            print(String(format: "  train step (Adam, all)    %.3f s   %.1f img/s   %.0f GFLOP/s", s.trainStepSeconds, s.trainImagesPerSecond, s.trainGFLOPs))
            print(String(format: "  same, dense FC gradients  %.3f s   (fused low-rank FC gradient + Adam: %.3f× the dense step, median of adjacent pairs)", s.trainStepUnfusedSeconds, s.fusedOverDenseStep))
            print(String(format: "  dW sgemm + Adam           %.3f s   fused dW-in-Adam %.3f s   ratio %.3f (median of adjacent pairs)",
                         s.updateDenseSeconds, s.updateFusedSeconds, s.fusedOverDenseUpdate))
            print(String(format: "  Adam update alone         %.3f s   %.1f GB/s (28 B/param: read p,g,m,v, write p,m,v); copy %.1f GB/s (read+write); ratio %.2f",
                         s.adamStepSeconds, s.adamGBps, s.copyGBps, s.adamGBps / s.copyGBps))
            print(String(format: "  inference batch 6         %.1f img/s", s.inferenceImagesPerSecondBatch6))
            print(String(format: "  inference batch 64        %.1f img/s   %.0f GFLOP/s", s.inferenceImagesPerSecondBatch64, s.inferenceGFLOPsBatch64))
            print(String(format: "  peak RSS so far (VmHWM)   %.0f MiB", Double(s.peakRSSAfterTrainBytes) / 1048576))
            for g in s.convGemm {
                print(String(format: "  sgemm %-11@ %4d×%5d×%6d  %.0f GFLOP/s", g.label, g.m, g.k, g.n, g.gflops))
            }
        }
        print("")
        print(String(format: "peak RSS (whole run): %.0f MiB", Double(out.peakRSSBytes) / 1048576))
        print("reference: " + out.pytorchReference)
        if let c = comparison { print(""); c.printTable() }
    }
}

import ArgumentParser
import Engine
import Foundation

/// `seafold bench conv`: every AlexNet convolution (224 px) timed alone — forward,
/// backward-data, backward-weight at the train batch and forward at the inference batch — with
/// im2col and with its fast path (Winograd F(2×2, 3×3) for the stride-1 3×3 layers, F(3×3, 5×5)
/// for features.3, implicit GEMM for features.0's forward), each next to the same-run sgemm
/// speed on the layer's GEMM shapes and on square 2048; then whole-network inference
/// (per-layer breakdown) and the Adam train step under every `ConvAlgorithm`.
struct BenchConvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "Benchmark AlexNet's convolutions (im2col vs Winograd / implicit GEMM) against same-run sgemm.")

    @Flag(name: .long, help: "Print one JSON object instead of a table.")
    var json = false

    @Option(name: .long, help: "Timed repetitions per figure (median reported).")
    var repeats: Int = 3

    @Option(name: .long, help: "Threads for sgemm and the engine's loops.")
    var threads: Int = 2

    @Option(name: .long, help: "Batch for the train-side figures (forward + both backward passes).")
    var trainBatch: Int = 6

    @Option(name: .long, help: "Batch for the inference figures (forward only).")
    var inferenceBatch: Int = 64

    @Flag(name: .long, help: "Skip the whole-network inference and train-step figures.")
    var layersOnly = false

    @Flag(name: .long, help: "Skip the per-layer figures (whole-network inference and train step only).")
    var networkOnly = false

    @Option(name: .long, help: "Only these layers (comma-separated, e.g. features.3,features.8).")
    var layer: String?

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard trainBatch >= 1, inferenceBatch >= 1 else { throw ValidationError("--train-batch and --inference-batch must be at least 1") }
    }

    struct Output: Codable {
        var blasKernel: String
        var threads: Int
        var repeats: Int
        var sgemmSquare2048GFLOPs: Double
        var layers: [ConvBenchmark.LayerFigure]
        var inference: [ConvBenchmark.Inference]
        var trainSteps: [ConvBenchmark.TrainStep]
        var sgemmSquare2048GFLOPsAtEnd: Double
    }

    func run() throws {
        BLASKernel.setThreads(threads)
        let tty = isatty(2) != 0
        let progress: (String) -> Void = { msg in
            if tty { FileHandle.standardError.write(("bench conv: " + msg + "\n").data(using: .utf8)!) }
        }
        progress("sgemm 2048³")
        let square = ConvBenchmark.sgemmGFLOPs(m: 2048, k: 2048, n: 2048, repeats: max(3, repeats))
        let layers = networkOnly ? [] : try ConvBenchmark.measureLayers(trainBatch: trainBatch, inferenceBatch: inferenceBatch,
                                                     only: layer.map { Set($0.split(separator: ",").map(String.init)) },
                                                     repeats: repeats, progress: progress)
        var inference: [ConvBenchmark.Inference] = [], train: [ConvBenchmark.TrainStep] = []
        if !layersOnly {
            for algorithm in ConvAlgorithm.allCases {
                progress("inference batch \(inferenceBatch), \(algorithm.rawValue)")
                inference.append(try ConvBenchmark.measureInference(batch: inferenceBatch, repeats: repeats, algorithm: algorithm))
            }
            for algorithm in ConvAlgorithm.allCases {
                progress("train step batch \(trainBatch), \(algorithm.rawValue)")
                train.append(try ConvBenchmark.measureTrainStep(batch: trainBatch, repeats: repeats, algorithm: algorithm))
            }
        }
        let squareEnd = ConvBenchmark.sgemmGFLOPs(m: 2048, k: 2048, n: 2048, repeats: max(3, repeats))
        let out = Output(blasKernel: BLASKernel.corename, threads: threads, repeats: repeats,
                         sgemmSquare2048GFLOPs: square, layers: layers, inference: inference, trainSteps: train,
                         sgemmSquare2048GFLOPsAtEnd: squareEnd)
        if json {
            let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(out), as: UTF8.self))
            return
        }
        print("BLAS kernel: \(out.blasKernel), threads: \(threads), repeats: \(repeats) (medians)")
        print(String(format: "sgemm square 2048: %.0f GFLOP/s at start, %.0f at end", square, squareEnd))
        print("GFLOP/s count direct-convolution FLOPs (2·Cout·Cin·k²·Hout·Wout); % = of same-run sgemm on the layer's GEMM shape")
        print("layer        algo          batch  GEMM M×K×N            forward                   backward-data             backward-weight")
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func cell(_ p: ConvBenchmark.Pass?) -> String {
            guard let p else { return String(repeating: " ", count: 24) }
            return String(format: "%7.4f s %4.0f GF %4.0f%%", p.seconds, p.gflops, 100 * p.ofSgemm)
        }
        for l in layers {
            // (%-12@ does not pad an NSString argument, so the names are padded here.)
            print(pad(l.layer, 12) + " " + pad(l.algorithm, 12) + String(format: " %5d  %4d×%5d×%7d  ", l.batch, l.gemmM, l.gemmK, l.gemmN)
                  + cell(l.forward) + "  " + cell(l.backwardData) + "  " + cell(l.backwardWeight))
        }
        print("sgemm on the GEMM shapes (GFLOP/s): forward / backward-data / backward-weight")
        var seen = Set<String>()
        for l in layers where !seen.contains("\(l.layer)/\(l.batch)") {
            seen.insert("\(l.layer)/\(l.batch)")
            print(String(format: "  %-12@ batch %3d  %4.0f / %@ / %@", l.layer, l.batch, l.forward.sgemmGFLOPs,
                         l.backwardData.map { String(format: "%.0f", $0.sgemmGFLOPs) } ?? "-",
                         l.backwardWeight.map { String(format: "%.0f", $0.sgemmGFLOPs) } ?? "-"))
        }
        for inf in inference {
            print("")
            print(String(format: "inference batch %d (%@): %.1f img/s, %.0f GFLOP/s (direct-convolution FLOPs)",
                         inf.batch, inf.algorithm, inf.imagesPerSecond, inf.gflops))
            let total = inf.layerSeconds.reduce(0) { $0 + $1.seconds }
            for t in inf.layerSeconds where t.seconds >= 0.002 * total {
                print(String(format: "  %-13@ %.4f s  %4.1f%%", t.layer, t.seconds, 100 * t.seconds / total))
            }
        }
        if !train.isEmpty { print("") }
        for t in train {
            print(String(format: "train step (Adam, all layers, batch %d, %@): %.3f s", t.batch, t.algorithm, t.seconds))
        }
    }
}

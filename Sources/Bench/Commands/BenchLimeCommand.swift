import ArgumentParser
import Engine
import Explain
import Foundation
import Pipeline
import SeafoldCore
import Terminal

/// `seafold bench lime`: one LIME explanation of a 224 px image at 1000 samples with full
/// AlexNet: total seconds, the classifier's seconds and img/s, the share spent outside the
/// classifier — and, in the same run, the engine's plain inference img/s on a ready tensor at
/// the same batch size, so "LIME is bounded by inference" is a comparison, not a claim.
struct BenchLimeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lime", abstract: "Time LIME with full AlexNet against plain inference.")

    @Option(help: "Image size.") var size: Int = 224
    @Option(help: "LIME samples.") var samples: Int = 1000
    @Option(help: "Model width multiplier (1 = full AlexNet).") var widthMultiplier: Double = 1
    @Option(help: "Batch size of LIME's classifier calls (and of the plain inference).") var batchSize: Int = 64
    @Option(help: "Engine threads.") var threads: Int = 2
    @Option(parsing: .upToNextOption, help: "Also measure plain inference img/s at these batch sizes (e.g. --sweep 16 32 64 100 128).")
    var sweep: [Int] = []
    @Flag(help: "Print JSON.") var json = false

    struct Result: Codable {
        var size: Int, samples: Int, segments: Int, batchSize: Int, threads: Int
        var totalSeconds: Double, modelSeconds: Double, outsideModelSeconds: Double, outsideShare: Double
        /// Images/s through LIME's classifier (normalisation into a tensor + AlexNet forward + softmax).
        var modelImagesPerSecond: Double
        /// Images/s of the engine's forward + softmax on a ready tensor, same batch size: the mean
        /// of a measurement just before and just after LIME (each the median of 3).
        var plainInferenceImagesPerSecond: Double
        var plainBefore: Double, plainAfter: Double
        var plainInferenceBySweep: [String: Double]
        var blasKernel: String
    }

    func run() throws {
        guard batchSize >= 1, samples >= 2 else { throw ValidationError("--batch-size must be ≥ 1 and --samples ≥ 2") }
        BLASKernel.setThreads(threads)
        let model = try AlexNet(config: AlexNetConfig(numClasses: 4, widthMultiplier: widthMultiplier, inputSize: size), seed: 1)
        func plain(_ b: Int) throws -> Double {
            model.evalBatchSize = b
            var rng = SeededGenerator(seed: 3)
            let x = Tensor(shape: [b, 3, size, size], data: (0..<(b * 3 * size * size)).map { _ in rng.nextFloat() })
            var t: [Double] = []
            for i in 0..<4 {
                let t0 = Date()
                _ = try model.probabilities(x)
                if i > 0 { t.append(Date().timeIntervalSince(t0)) }
            }
            return Double(b) / t.sorted()[1]
        }
        var bySweep: [String: Double] = [:]
        for b in sweep where b >= 1 { bySweep[String(b)] = try plain(b) }
        // The plain reference at LIME's batch size right before and right after LIME (speeds drift
        // on a shared machine; the mean of the two brackets the LIME run).
        let before = try plain(batchSize)
        let image = ExplainBenchmark.syntheticImage(size: size)
        let explainer = LimeImageExplainer(numSamples: samples, batchSize: batchSize, seed: 0)
        model.evalBatchSize = batchSize
        let t0 = Date()
        let timing = LimeTimer()
        let e = try explainer.explain(image, classifier: ExplainTask.classifier(model, size: size), observe: timing.observe)
        let total = Date().timeIntervalSince(t0)
        let after = try plain(batchSize)
        let reference = (before + after) / 2
        let r = Result(size: size, samples: samples, segments: e.segmentation.count, batchSize: batchSize, threads: threads,
                       totalSeconds: total, modelSeconds: timing.model,
                       outsideModelSeconds: total - timing.model, outsideShare: (total - timing.model) / total,
                       modelImagesPerSecond: Double(samples) / max(timing.model, 1e-9), plainInferenceImagesPerSecond: reference, plainBefore: before, plainAfter: after,
                       plainInferenceBySweep: bySweep, blasKernel: BLASKernel.corename)
        if json { try Console.printJSON(r); return }
        for (b, v) in bySweep.sorted(by: { Int($0.key)! < Int($1.key)! }) { print(String(format: "plain inference batch %@: %.1f img/s", b, v)) }
        print(String(format: "LIME %d px, %d samples, %d segments, batch %d, %d threads: %.2f s total; classifier %.2f s (%.1f img/s) vs plain inference %.1f img/s at batch %d in this run (%.1f before, %.1f after; %.0f%%); outside the classifier %.2f s (%.1f%%: segmentation %.2f s, perturbation %.2f s, regression %.2f s); BLAS kernel %@",
                     size, samples, r.segments, batchSize, threads, total, r.modelSeconds, r.modelImagesPerSecond, reference, batchSize, before, after,
                     100 * r.modelImagesPerSecond / reference, r.outsideModelSeconds, 100 * r.outsideShare,
                     timing.segmentation, timing.perturbation, timing.regression, r.blasKernel))
    }
}

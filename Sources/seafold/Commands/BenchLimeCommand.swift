import ArgumentParser
import Engine
import Explain
import Foundation
import Pipeline

/// `seafold bench lime`: one LIME explanation of a 224 px image at 1000 samples with full
/// AlexNet: total seconds, model seconds, and the share spent outside the model.
struct BenchLimeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lime", abstract: "Time LIME with full AlexNet (and outside the model).")

    @Option(help: "Image size.") var size: Int = 224
    @Option(help: "LIME samples.") var samples: Int = 1000
    @Option(help: "Model width multiplier (1 = full AlexNet).") var widthMultiplier: Double = 1
    @Flag(help: "Print JSON.") var json = false

    struct Result: Codable {
        var size: Int, samples: Int, segments: Int
        var totalSeconds: Double, modelSeconds: Double, outsideModelSeconds: Double, outsideShare: Double
        var modelImagesPerSecond: Double, blasKernel: String
    }

    func run() throws {
        let model = try AlexNet(config: AlexNetConfig(numClasses: 4, widthMultiplier: widthMultiplier, inputSize: size), seed: 1)
        let image = ExplainBenchmark.syntheticImage(size: size)
        let explainer = LimeImageExplainer(numSamples: samples, batchSize: 64, seed: 0)
        let t0 = Date()
        let e = try explainer.explain(image, classifier: ExplainTask.classifier(model, size: size))
        let total = Date().timeIntervalSince(t0)
        let r = Result(size: size, samples: samples, segments: e.segmentation.count, totalSeconds: total, modelSeconds: e.timing.model,
                       outsideModelSeconds: e.timing.outsideModel, outsideShare: e.timing.outsideModel / total,
                       modelImagesPerSecond: Double(samples) / max(e.timing.model, 1e-9), blasKernel: BLASKernel.corename)
        if json { try Console.printJSON(r); return }
        print(String(format: "LIME %d px, %d samples, %d segments: %.2f s total, model %.2f s (%.1f img/s), outside the model %.2f s (%.1f%%); BLAS kernel %@",
                     size, samples, r.segments, total, r.modelSeconds, r.modelImagesPerSecond, r.outsideModelSeconds, 100 * r.outsideShare, r.blasKernel))
    }
}

import Explain
import Foundation
import SeafoldCore

/// `seafold bench lime`: times LIME's own work (segmentation, building perturbed images,
/// regression) for one synthetic sonar-like image with a trivial model, so the time spent
/// outside the model can be compared with lime's per-sample overhead.
public enum ExplainBenchmark {
    public struct Result: Codable, Sendable {
        public let size: Int
        public let numSamples: Int
        public let batchSize: Int
        public let segmenter: String
        public let segments: Int
        public let segmentationSeconds: Double
        public let perturbationSeconds: Double
        public let regressionSeconds: Double
        public let modelSeconds: Double
        public let outsideModelSeconds: Double
        /// Milliseconds of non-model work per perturbed sample.
        public let outsideModelMillisecondsPerSample: Double

        public var summary: String {
            String(format: "lime %dpx, %d samples, %@ → %d segments: segmentation %.3f s, perturbation %.3f s, " +
                   "regression %.3f s, outside model %.3f s (%.3f ms/sample); trivial model %.3f s",
                   size, numSamples, segmenter, segments, segmentationSeconds, perturbationSeconds,
                   regressionSeconds, outsideModelSeconds, outsideModelMillisecondsPerSample, modelSeconds)
        }
    }

    /// A deterministic sonar-like test image: sand ripples, a bright object with a shadow, speckle.
    public static func syntheticImage(size: Int, seed: UInt64 = 1) -> RGBImage {
        var rng = SeededGenerator(seed: seed).derive("bench/image")
        var g = [Float](repeating: 0, count: size * size)
        let s = Double(size)
        for r in 0..<size {
            for c in 0..<size {
                let x = Double(c) / s, y = Double(r) / s
                var v = 0.35 + 0.15 * sin(2 * Double.pi * (x * 9 + y * 3))
                if y > 0.5 { v = 0.3 + 0.05 * sin(2 * Double.pi * x * 2) }
                let dx = x - 0.3, dy = y - 0.3
                if dx * dx + dy * dy < 0.01 { v = 0.9 }
                if dx > 0 && abs(dy) < 0.08 && dx < 0.3 && dx * dx + dy * dy >= 0.01 { v *= 0.3 }
                v += 0.08 * (rng.nextDouble() - 0.5)
                g[r * size + c] = Float(min(max(v, 0), 1))
            }
        }
        return try! RGBImage(grayscale: g, width: size, height: size)
    }

    /// Runs one explanation of the synthetic image with a trivial two-class model (mean
    /// brightness of the top-left quarter) and reports the stage timings.
    public static func run(size: Int = 224, numSamples: Int = 1000, batchSize: Int = 100,
                           segmentation: SegmentationMethod = .quickshift(Quickshift()), seed: UInt64 = 0) throws -> Result {
        guard size >= 8 else { throw SeafoldError.config(key: "bench.size", reason: "must be >= 8, got \(size)") }
        let image = syntheticImage(size: size, seed: seed)
        let model: ImageClassifier = { batch in
            batch.map { im in
                var s: Float = 0
                for r in 0..<(im.height / 2) { for c in 0..<(im.width / 2) { s += im.pixels[3 * (r * im.width + c)] } }
                let p = s / Float((im.height / 2) * (im.width / 2))
                return [p, 1 - p]
            }
        }
        let explainer = LimeImageExplainer(numSamples: numSamples, batchSize: batchSize, segmentation: segmentation, seed: seed)
        let t = LimeTimer()
        let e = try explainer.explain(image, classifier: model, observe: t.observe)
        let segName: String
        switch segmentation {
        case .quickshift: segName = "quickshift"
        case .slic: segName = "slic"
        case .grid: segName = "grid"
        }
        return Result(size: size, numSamples: numSamples, batchSize: batchSize, segmenter: segName,
                      segments: e.segmentation.count, segmentationSeconds: t.segmentation,
                      perturbationSeconds: t.perturbation, regressionSeconds: t.regression, modelSeconds: t.model,
                      outsideModelSeconds: t.outsideModel,
                      outsideModelMillisecondsPerSample: 1000 * t.outsideModel / Double(numSamples))
    }
}

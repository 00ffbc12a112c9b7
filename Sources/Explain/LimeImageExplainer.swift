import Foundation
import SeafoldCore

/// A classifier as LIME sees it: a batch of images → one probability vector per image.
public typealias ImageClassifier = ([RGBImage]) throws -> [[Float]]

/// lime's feature selection modes (lime_base.LimeBase.feature_selection).
public enum FeatureSelection: String, Codable, Sendable {
    /// forward selection when num_features ≤ 6, else highest weights (lime's default).
    case auto
    /// greedy: add the feature that maximises the weighted R² of an unregularised fit.
    case forwardSelection = "forward_selection"
    /// keep the num_features largest |coef| of a Ridge(alpha=0.01) fit on all features.
    case highestWeights = "highest_weights"
    case none
}

/// LIME for images with lime 0.2.0.1's `LimeImageExplainer.explain_instance` semantics.
///
/// Samples: a uniform random 0/1 matrix num_samples × n_segments (row 0 all ones, the
/// original image); switched-off segments take `hideColor` or each segment's mean colour.
/// Distance of a row with k of n segments on to row 0 is the cosine distance 1 − √(k/n)
/// (1 for k = 0, as scikit-learn's zero-norm handling gives); kernel √(exp(−d²/w²)) with
/// w = 0.25. Per explained label: feature selection, then Ridge(alpha=1, intercept) with
/// the kernel values as sample weights. The randomness comes from `SeededGenerator(seed:)`;
/// the classifier is called in batches of `batchSize` and the result does not depend on it.
/// Ties in top_labels go to the higher class index (numpy's argsort order is unspecified).
/// A stage of `LimeImageExplainer.explain`, told to its `observe` closure when the stage's
/// work ends (`started` first): segmentation, building perturbed images (once, then per batch),
/// the classifier on a batch, the surrogate regressions.
public enum LimeStage: Sendable { case started, segmentation, perturbation, model, regression }

public struct LimeImageExplainer: Sendable {
    public var kernelWidth: Double
    public var featureSelection: FeatureSelection
    public var numSamples: Int
    public var batchSize: Int
    /// Explain the `topLabels` most probable classes (lime's top_labels=5); ignored when
    /// `explain(labels:)` is given explicit labels.
    public var topLabels: Int
    public var numFeatures: Int
    /// nil: mean colour of each segment (lime's hide_color=None); else an RGB triple in [0,1].
    public var hideColor: [Float]?
    public var segmentation: SegmentationMethod
    /// Used when `segmentation` gives fewer than `minimumSegments` segments (nil: no fallback).
    public var fallback: SegmentationMethod?
    public var minimumSegments: Int
    public var seed: UInt64

    public init(kernelWidth: Double = 0.25, featureSelection: FeatureSelection = .auto,
                numSamples: Int = 1000, batchSize: Int = 100, topLabels: Int = 5,
                numFeatures: Int = 100_000, hideColor: [Float]? = nil,
                segmentation: SegmentationMethod = .quickshift(Quickshift()),
                fallback: SegmentationMethod? = .slic(SLIC(nSegments: 50)),
                minimumSegments: Int = 2, seed: UInt64 = 0) {
        self.kernelWidth = kernelWidth
        self.featureSelection = featureSelection
        self.numSamples = numSamples
        self.batchSize = batchSize
        self.topLabels = topLabels
        self.numFeatures = numFeatures
        self.hideColor = hideColor
        self.segmentation = segmentation
        self.fallback = fallback
        self.minimumSegments = minimumSegments
        self.seed = seed
    }

    /// lime_image's kernel: √(exp(−d²/w²)).
    public static func kernel(_ d: Double, width w: Double) -> Double { (exp(-(d * d) / (w * w))).squareRoot() }

    /// Cosine distance between a 0/1 row with `k` ones out of `n` and the all-ones row.
    public static func cosineDistance(onCount k: Int, of n: Int) -> Double {
        k == 0 ? 1 : 1 - (Double(k) / Double(n)).squareRoot()
    }

    /// Segments `image` with the configured method and fallback.
    public func segment(_ image: RGBImage) throws -> Segmentation {
        try segmentation.segment(image, fallback: fallback, minimumSegments: minimumSegments)
    }

    /// The perturbation matrix (row-major num_samples × n_segments, 0/1), row 0 all ones.
    public func sampleMatrix(segments n: Int) -> [UInt8] {
        var rng = SeededGenerator(seed: seed).derive("lime/samples")
        var data = [UInt8](repeating: 1, count: numSamples * n)
        var word: UInt64 = 0, bitsLeft = 0
        for i in n..<(numSamples * n) {
            if bitsLeft == 0 { word = rng.next(); bitsLeft = 64 }
            data[i] = UInt8(word & 1)
            word >>= 1
            bitsLeft -= 1
        }
        return data
    }

    func validate(_ image: RGBImage) throws {
        guard numSamples >= 2 else { throw SeafoldError.config(key: "lime.num_samples", reason: "must be >= 2, got \(numSamples)") }
        guard batchSize >= 1 else { throw SeafoldError.config(key: "lime.batch_size", reason: "must be >= 1, got \(batchSize)") }
        guard kernelWidth > 0 else { throw SeafoldError.config(key: "lime.kernel_width", reason: "must be positive, got \(kernelWidth)") }
        guard numFeatures >= 1 else { throw SeafoldError.config(key: "lime.num_features", reason: "must be >= 1, got \(numFeatures)") }
        if let hc = hideColor, hc.count != 3 || !hc.allSatisfy({ $0.isFinite }) {
            throw SeafoldError.config(key: "lime.hide_color", reason: "must be three finite RGB values in [0,1], got \(hc)")
        }
    }

    /// Runs the classifier over `images` in batches, checking its output shape.
    static func predict(_ images: [RGBImage], classifier: ImageClassifier, classes: Int?) throws -> [[Float]] {
        let out = try classifier(images)
        guard out.count == images.count else {
            throw SeafoldError.mismatch(what: "classifier output rows", expected: "\(images.count)", found: "\(out.count)")
        }
        let c = classes ?? out.first?.count ?? 0
        for row in out {
            guard row.count == c, c > 0 else {
                throw SeafoldError.mismatch(what: "classifier output classes per image", expected: "\(c)", found: "\(row.count)")
            }
            guard row.allSatisfy({ $0.isFinite }) else {
                throw SeafoldError.badInput(path: "classifier output", reason: "non-finite probability; check the model weights")
            }
        }
        return out
    }

    /// Explains `image`. `labels` nil → the `topLabels` most probable classes;
    /// `segmentation` nil → computed with the configured method (pass one to reuse it).
    /// `observe` is told each stage as it ends (`LimeStage`; a caller that times LIME's own
    /// work installs it).
    public func explain(_ image: RGBImage, classifier: ImageClassifier, labels: [Int]? = nil,
                        segmentation given: Segmentation? = nil, observe: ((LimeStage) -> Void)? = nil) throws -> Explanation {
        try validate(image)
        observe?(.started)
        let seg = try given ?? segment(image)
        guard seg.width == image.width, seg.height == image.height else {
            throw SeafoldError.mismatch(what: "segmentation size", expected: "\(image.width)x\(image.height)", found: "\(seg.width)x\(seg.height)")
        }
        observe?(.segmentation)
        let n = seg.count
        let data = sampleMatrix(segments: n)
        let renderer = PerturbationRenderer(image: image, segmentation: seg, hideColor: hideColor)
        observe?(.perturbation)

        var predictions: [[Float]] = []
        predictions.reserveCapacity(numSamples)
        var start = 0
        // Reused image buffers (copy-on-write keeps any image the classifier retains intact).
        var buffers: [RGBImage] = []
        while start < numSamples {
            let end = min(start + batchSize, numSamples)
            for (slot, row) in (start..<end).enumerated() {
                if slot < buffers.count {
                    renderer.render({ data[row * n + $0] != 0 }, into: &buffers[slot].pixels)
                } else {
                    buffers.append(renderer.render { data[row * n + $0] != 0 })
                }
            }
            let batch = end - start == buffers.count ? buffers : Array(buffers.prefix(end - start))
            observe?(.perturbation)
            predictions += try LimeImageExplainer.predict(batch, classifier: classifier, classes: predictions.first?.count)
            observe?(.model)
            start = end
        }
        let classes = predictions[0].count

        var explained: [Int]
        if let l = labels {
            for c in l where c < 0 || c >= classes {
                throw SeafoldError.config(key: "lime labels", reason: "label \(c) is outside the classifier's 0..<\(classes)")
            }
            explained = l
        } else {
            let order = (0..<classes).sorted { a, b in
                predictions[0][a] != predictions[0][b] ? predictions[0][a] < predictions[0][b] : a < b
            }
            explained = Array(order.suffix(max(topLabels, 0)).reversed())
        }

        let weights = (0..<numSamples).map { row -> Double in
            var k = 0
            for j in 0..<n where data[row * n + j] != 0 { k += 1 }
            return LimeImageExplainer.kernel(LimeImageExplainer.cosineDistance(onCount: k, of: n), width: kernelWidth)
        }
        let x = data.map { Double($0) }
        let surrogate = SurrogateFitter(x: x, rows: numSamples, cols: n, weights: weights)
        var results: [Explanation.LabelExplanation] = []
        for label in explained {
            let y = predictions.map { Double($0[label]) }
            results.append(surrogate.explain(label: label, y: y, numFeatures: numFeatures, selection: featureSelection))
        }
        observe?(.regression)
        return Explanation(segmentation: seg, topLabels: labels == nil ? explained : [],
                           labels: results, originalPrediction: predictions[0], numSamples: numSamples,
                           kernelWidth: kernelWidth, seed: seed, hideColor: hideColor,
                           warnings: seg.warnings)
    }
}

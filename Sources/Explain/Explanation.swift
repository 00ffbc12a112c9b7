import SeafoldCore

/// The result of `LimeImageExplainer.explain`, lime's `ImageExplanation` in seafold's words.
///
/// For each explained label: the (segment, weight) list sorted by |weight| descending
/// (lime's `local_exp[label]`), the ridge intercept, the local prediction for the unperturbed
/// image (`local_pred`) and the weighted R² of the surrogate (`score`).
public struct Explanation: Codable, Equatable, Sendable {
    public struct SegmentWeight: Codable, Equatable, Sendable {
        public let segment: Int
        public let weight: Double
    }

    public struct LabelExplanation: Codable, Equatable, Sendable {
        public let label: Int
        /// Sorted by |weight| descending (ties keep selection order, as Python's stable sort).
        public let weights: [SegmentWeight]
        public let intercept: Double
        public let localPrediction: Double
        public let score: Double
    }

    public let segmentation: Segmentation
    /// lime's `top_labels`: the most probable classes of the unperturbed image, most probable first.
    public let topLabels: [Int]
    public let labels: [LabelExplanation]
    /// The classifier's probabilities for the unperturbed image (row 0).
    public let originalPrediction: [Float]
    public let numSamples: Int
    public let kernelWidth: Double
    public let seed: UInt64
    /// nil: each switched-off segment took its own mean colour (lime's hide_color=None).
    public let hideColor: [Float]?
    public let warnings: [String]

    public static func == (a: Explanation, b: Explanation) -> Bool {
        a.segmentation == b.segmentation && a.topLabels == b.topLabels && a.labels == b.labels &&
            a.originalPrediction == b.originalPrediction && a.numSamples == b.numSamples &&
            a.kernelWidth == b.kernelWidth && a.seed == b.seed && a.hideColor == b.hideColor &&
            a.warnings == b.warnings
    }

    /// The explanation of `label`, or an error listing the explained labels.
    public func explanation(for label: Int) throws -> LabelExplanation {
        guard let e = labels.first(where: { $0.label == label }) else {
            throw SeafoldError.message("label \(label) is not in the explanation (explained: \(labels.map { $0.label })); " +
                                       "pass it in `labels:` or raise top_labels")
        }
        return e
    }

    /// The segments `getImageAndMask` would select, in order (see `mask`).
    public func selectedSegments(label: Int, positiveOnly: Bool = true, negativeOnly: Bool = false,
                                 numFeatures: Int = 5, minWeight: Double = 0) throws -> [SegmentWeight] {
        guard !(positiveOnly && negativeOnly) else {
            throw SeafoldError.config(key: "positive_only/negative_only", reason: "at most one may be true (lime raises the same)")
        }
        let exp = try explanation(for: label).weights
        if positiveOnly {
            return Array(exp.filter { $0.weight > 0 && $0.weight > minWeight }.prefix(max(numFeatures, 0)))
        }
        if negativeOnly {
            return Array(exp.filter { $0.weight < 0 && abs($0.weight) > minWeight }.prefix(max(numFeatures, 0)))
        }
        return exp.prefix(max(numFeatures, 0)).filter { !(abs($0.weight) < minWeight) }
    }

    /// lime's `get_image_and_mask` mask (defaults: positive_only, num_features 5, min_weight 0):
    /// 1 on selected positive segments, −1 on selected negative ones (only when neither
    /// positive_only nor negative_only), 0 elsewhere; one value per pixel in raster order.
    public func mask(label: Int, positiveOnly: Bool = true, negativeOnly: Bool = false,
                     numFeatures: Int = 5, minWeight: Double = 0) throws -> [Int32] {
        let sel = try selectedSegments(label: label, positiveOnly: positiveOnly, negativeOnly: negativeOnly,
                                       numFeatures: numFeatures, minWeight: minWeight)
        var value = [Int32](repeating: 0, count: segmentation.count)
        for s in sel {
            value[s.segment] = (positiveOnly || negativeOnly) ? 1 : (s.weight < 0 ? -1 : 1)
        }
        return segmentation.labels.map { value[Int($0)] }
    }

    /// lime's `get_image_and_mask` image as well: with `hideRest` everything but the selected
    /// segments is black; without positive_only/negative_only, a selected segment's green
    /// (positive) or red (negative) channel is set to the image maximum, as lime does.
    public func imageAndMask(image: RGBImage, label: Int, positiveOnly: Bool = true, negativeOnly: Bool = false,
                             hideRest: Bool = false, numFeatures: Int = 5, minWeight: Double = 0) throws -> (image: RGBImage, mask: [Int32]) {
        guard image.width == segmentation.width, image.height == segmentation.height else {
            throw SeafoldError.mismatch(what: "image size for the explanation", expected: "\(segmentation.width)x\(segmentation.height)",
                                        found: "\(image.width)x\(image.height)")
        }
        let m = try mask(label: label, positiveOnly: positiveOnly, negativeOnly: negativeOnly,
                         numFeatures: numFeatures, minWeight: minWeight)
        var out = hideRest ? [Float](repeating: 0, count: image.pixels.count) : image.pixels
        let maxValue = image.pixels.max() ?? 1
        for i in 0..<m.count where m[i] != 0 {
            for k in 0..<3 { out[3 * i + k] = image.pixels[3 * i + k] }
            if !(positiveOnly || negativeOnly) { out[3 * i + (m[i] < 0 ? 0 : 1)] = maxValue }
        }
        return (RGBImage(uncheckedWidth: image.width, height: image.height, pixels: out), m)
    }
}

import SeafoldCore

/// Numbers for comparing explanations (lime offers none): stability under reseeding, the
/// deletion curve (faithfulness) and the pointing score against ground-truth evidence.
public enum ExplanationScores {
    /// Stability of an explanation under a change of sampling seed.
    public struct Stability: Codable, Equatable, Sendable {
        public let label: Int
        public let topK: Int
        public let seeds: [UInt64]
        /// Top-k positive segments of each run, in seed order.
        public let topSegments: [[Int]]
        /// Jaccard |A∩B|/|A∪B| for every pair i < j, in (0,1), (0,2), … order.
        public let pairwiseJaccard: [Double]
        public let meanJaccard: Double
    }

    /// Jaccard index of two sets; two empty sets count as identical (1).
    public static func jaccard(_ a: Set<Int>, _ b: Set<Int>) -> Double {
        let u = a.union(b).count
        return u == 0 ? 1 : Double(a.intersection(b).count) / Double(u)
    }

    /// Reruns `explainer` with each seed on one fixed segmentation (computed once if not
    /// given, so only the sampling varies) and reports the mean pairwise Jaccard overlap of
    /// the top-k positive segments (lime's get_image_and_mask selection with num_features k).
    public static func stability(image: RGBImage, classifier: ImageClassifier, explainer: LimeImageExplainer,
                                 label: Int, seeds: [UInt64], topK: Int = 5,
                                 segmentation: Segmentation? = nil) throws -> Stability {
        guard seeds.count >= 2 else {
            throw SeafoldError.config(key: "stability.seeds", reason: "needs at least 2 seeds to compare, got \(seeds.count)")
        }
        let seg = try segmentation ?? explainer.segment(image)
        var tops: [[Int]] = []
        for s in seeds {
            var e = explainer
            e.seed = s
            let exp = try e.explain(image, classifier: classifier, labels: [label], segmentation: seg)
            tops.append(try exp.selectedSegments(label: label, numFeatures: topK).map { $0.segment })
        }
        var pairs: [Double] = []
        for i in 0..<tops.count { for j in (i + 1)..<tops.count { pairs.append(jaccard(Set(tops[i]), Set(tops[j]))) } }
        return Stability(label: label, topK: topK, seeds: seeds, topSegments: tops, pairwiseJaccard: pairs,
                         meanJaccard: pairs.reduce(0, +) / Double(pairs.count))
    }

    /// The deletion curve: the explained class's probability as segments are hidden in
    /// order of decreasing weight (most positive first).
    public struct DeletionCurve: Codable, Equatable, Sendable {
        public let label: Int
        /// Segments in removal order.
        public let order: [Int]
        /// x: fraction of segments removed, i/n for i = 0…n.
        public let fractions: [Double]
        /// y: probability of `label` after removing the first i segments.
        public let probabilities: [Double]
        /// Trapezoid area under (fractions, probabilities); x spans [0, 1]. Lower = the
        /// top-ranked segments matter more to the model = a more faithful ranking.
        public let auc: Double
    }

    /// Computes the deletion curve of `explanation` for `label`; removed segments are hidden
    /// exactly as LIME's samples hid them (the explanation's hide colour, or each segment's
    /// mean colour). The n+1 images go to the model in batches of `batchSize`.
    public static func deletionCurve(image: RGBImage, explanation: Explanation, label: Int, classifier: ImageClassifier,
                                     batchSize: Int = 100) throws -> DeletionCurve {
        let seg = explanation.segmentation
        guard image.width == seg.width, image.height == seg.height else {
            throw SeafoldError.mismatch(what: "image size for the deletion curve", expected: "\(seg.width)x\(seg.height)",
                                        found: "\(image.width)x\(image.height)")
        }
        guard batchSize >= 1 else { throw SeafoldError.config(key: "deletion.batch_size", reason: "must be >= 1") }
        let weights = try explanation.explanation(for: label).weights
        // Descending weight; segments the surrogate did not use (num_features < n) go last.
        var order = weights.sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.segment < $1.segment }.map { $0.segment }
        let listed = Set(order)
        order += (0..<seg.count).filter { !listed.contains($0) }
        let renderer = PerturbationRenderer(image: image, segmentation: seg, hideColor: explanation.hideColor)
        var rank = [Int](repeating: 0, count: seg.count)
        for (i, s) in order.enumerated() { rank[s] = i }
        let n = seg.count
        var probs: [Double] = []
        var start = 0
        while start <= n {
            let end = min(start + batchSize, n + 1)
            let batch = (start..<end).map { removed in renderer.render { rank[$0] >= removed } }
            let out = try LimeImageExplainer.predict(batch, classifier: classifier, classes: nil)
            for row in out {
                guard label >= 0 && label < row.count else {
                    throw SeafoldError.config(key: "deletion label", reason: "label \(label) outside the classifier's 0..<\(row.count)")
                }
                probs.append(Double(row[label]))
            }
            start = end
        }
        let xs = (0...n).map { Double($0) / Double(n) }
        var auc = 0.0
        for i in 0..<n { auc += (xs[i + 1] - xs[i]) * (probs[i] + probs[i + 1]) / 2 }
        return DeletionCurve(label: label, order: order, fractions: xs, probabilities: probs, auc: auc)
    }

    /// The pointing score: how much of the explanation lies on the true evidence.
    public struct Pointing: Codable, Equatable, Sendable {
        /// |explained ∩ evidence| / |explained|; nil when no segment has positive weight.
        public let score: Double?
        /// |evidence| / |image|: what a random explanation of any size would score on average.
        public let chance: Double
        public let explainedPixels: Int
    }

    /// Fraction of the positive-weight explanation area (the top `numFeatures` positive
    /// segments, as `mask(label:)`; pass `Int.max` for all positive segments) that falls on
    /// ground-truth evidence pixels (`evidence[i] != 0`, raster order).
    public static func pointing(explanation: Explanation, label: Int, evidence: [UInt8], numFeatures: Int = 5) throws -> Pointing {
        let seg = explanation.segmentation
        guard evidence.count == seg.width * seg.height else {
            throw SeafoldError.mismatch(what: "evidence mask pixels (\(seg.width)x\(seg.height))",
                                        expected: "\(seg.width * seg.height)", found: "\(evidence.count)")
        }
        let mask = try explanation.mask(label: label, numFeatures: numFeatures)
        var explained = 0, hit = 0, truth = 0
        for i in 0..<mask.count {
            if evidence[i] != 0 { truth += 1 }
            if mask[i] > 0 {
                explained += 1
                if evidence[i] != 0 { hit += 1 }
            }
        }
        return Pointing(score: explained == 0 ? nil : Double(hit) / Double(explained),
                        chance: Double(truth) / Double(mask.count), explainedPixels: explained)
    }
}

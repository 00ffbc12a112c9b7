import SeafoldCore

/// lime_base.LimeBase.explain_instance_with_data on a fixed neighbourhood: feature selection,
/// then Ridge(alpha=1, fit_intercept=True) with the kernel weights, for one label at a time.
/// Normal matrices are cached by feature set, since every label shares X and the weights.
final class SurrogateFitter {
    let x: [Double]
    let rows: Int
    let cols: Int
    let weights: [Double]
    private var designs: [String: WeightedRidge.Design] = [:]

    init(x: [Double], rows: Int, cols: Int, weights: [Double]) {
        self.x = x; self.rows = rows; self.cols = cols; self.weights = weights
    }

    /// The design on `features` (in that column order) with ridge `alpha`.
    func design(_ features: [Int], alpha: Double) -> WeightedRidge.Design {
        let key = "\(alpha)|" + features.map(String.init).joined(separator: ",")
        if let d = designs[key] { return d }
        let sub: [Double]
        if features.count == cols && features == Array(0..<cols) {
            sub = x
        } else {
            var s = [Double](repeating: 0, count: rows * features.count)
            for i in 0..<rows { for (j, f) in features.enumerated() { s[i * features.count + j] = x[i * cols + f] } }
            sub = s
        }
        let d = WeightedRidge.Design(x: sub, rows: rows, cols: features.count, weights: weights, alpha: alpha)
        // Forward selection tries many one-off subsets; cache only the reusable ones.
        if features.count == cols || alpha != 0 { designs[key] = d }
        return d
    }

    /// lime's 'forward_selection': Ridge(alpha=0) greedy on weighted R²; first best wins ties.
    func forwardSelection(y: [Double], numFeatures: Int) -> [Int] {
        var used: [Int] = []
        for _ in 0..<min(numFeatures, cols) {
            var best = 0
            var maxScore = -100_000_000.0
            for f in 0..<cols where !used.contains(f) {
                let d = design(used + [f], alpha: 0)
                let s = d.score(d.fit(y), y)
                if s > maxScore { best = f; maxScore = s }
            }
            used.append(best)
        }
        return used
    }

    /// lime's 'highest_weights': Ridge(alpha=0.01) on all features, top |coef · row0| (row 0 is all ones).
    func highestWeights(y: [Double], numFeatures: Int) -> [Int] {
        let model = design(Array(0..<cols), alpha: 0.01).fit(y)
        let order = (0..<cols).sorted { a, b in
            let wa = abs(model.coefficients[a]), wb = abs(model.coefficients[b])
            return wa != wb ? wa > wb : a < b
        }
        return Array(order.prefix(numFeatures))
    }

    func explain(label: Int, y: [Double], numFeatures: Int, selection: FeatureSelection) -> Explanation.LabelExplanation {
        let used: [Int]
        switch selection {
        case .none: used = Array(0..<cols)
        case .forwardSelection: used = forwardSelection(y: y, numFeatures: numFeatures)
        case .highestWeights: used = highestWeights(y: y, numFeatures: numFeatures)
        case .auto: used = numFeatures <= 6 ? forwardSelection(y: y, numFeatures: numFeatures)
                                            : highestWeights(y: y, numFeatures: numFeatures)
        }
        // Ridge is equivariant under column permutations: fit on the sorted set (cached across
        // labels) and read the coefficients back in selection order.
        let sortedUsed = used.sorted()
        let d = design(sortedUsed, alpha: 1)
        let model = d.fit(y)
        let score = d.score(model, y)
        let position = Dictionary(uniqueKeysWithValues: sortedUsed.enumerated().map { ($1, $0) })
        let pairs = used.map { f in Explanation.SegmentWeight(segment: f, weight: model.coefficients[position[f]!]) }
        // Python's sorted(..., key=|w|, reverse=True) is stable: ties keep selection order.
        let sorted = pairs.enumerated().sorted { a, b in
            let wa = abs(a.element.weight), wb = abs(b.element.weight)
            return wa != wb ? wa > wb : a.offset < b.offset
        }.map { $0.element }
        // local_pred: the surrogate at row 0 (all segments on).
        let local = model.intercept + model.coefficients.reduce(0, +)
        return Explanation.LabelExplanation(label: label, weights: sorted, intercept: model.intercept,
                                            localPrediction: local, score: score)
    }
}

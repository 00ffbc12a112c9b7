import SeafoldCore

/// k-nearest-neighbour classifier with scikit-learn `KNeighborsClassifier` semantics:
/// uniform weights, Euclidean distance, prediction = the most common label among the k
/// nearest training samples.
///
/// Tie rules (docs/REFERENCE_SEMANTICS.md): training samples at equal distance keep training-set order (a
/// stable sort, so the earlier sample is the nearer one); a tie in votes goes to the lowest
/// class index (scikit-learn's `mode` returns the smallest tied value).
///
/// Speed without losing exactness: squared distances are first estimated with one BLAS sgemm,
/// ‖q‖² + ‖t‖² − 2 q·t. Each estimate gets a rigorous float round-off bound; every training
/// sample whose lower bound could still place it among the k nearest is re-measured exactly
/// in Double, and only those exact distances decide the neighbours and their order.
public struct KNearestNeighbors: Sendable {
    public let k: Int
    public private(set) var training: FeatureMatrix?
    public private(set) var labels: [Int] = []
    /// Squared norms of training rows, in Double.
    private var trainNorms: [Double] = []

    public init(k: Int = 3) {
        self.k = k
    }

    /// Stores the training set. Throws if `k` is not in 1...rows or labels don't match the rows.
    public mutating func fit(_ X: FeatureMatrix, labels: [Int]) throws {
        try LabelCheck.validate(X, labels, who: "KNearestNeighbors.fit")
        guard k >= 1 && k <= X.rows else {
            throw SeafoldError.config(key: "heads.knn.k",
                                      reason: "k = \(k) must be between 1 and the number of training samples (\(X.rows))")
        }
        training = X
        self.labels = labels
        trainNorms = (0..<X.rows).map { Self.squaredNorm(X.row($0)) }
    }

    /// Indices (into the training set) of the k nearest training samples of each query row,
    /// nearest first; equal distances in training-set order.
    public func neighbors(_ X: FeatureMatrix) throws -> [[Int]] {
        guard let T = training else {
            throw SeafoldError.message("KNearestNeighbors: call fit(_:labels:) before predicting")
        }
        guard X.cols == T.cols else {
            throw SeafoldError.mismatch(what: "KNearestNeighbors query features", expected: "\(T.cols) columns",
                                        found: "\(X.cols) columns")
        }
        let n = T.rows, d = T.cols
        // Round-off bound of the sgemm dot product: |fl(q·t) − q·t| ≤ γ_d Σ|q_i t_i|
        // ≤ γ_d (‖q‖² + ‖t‖²)/2 with γ_d ≈ d·u; doubled for the factor 2, padded generously.
        let gamma = Double(d + 4) * Double(Float.ulpOfOne) * 1.5
        var result: [[Int]] = []
        result.reserveCapacity(X.rows)
        let block = 256
        var cross = [Float](repeating: 0, count: min(block, max(X.rows, 1)) * n)
        var start = 0
        while start < X.rows {
            let m = min(block, X.rows - start)
            X.values.withUnsafeBufferPointer { xp in
                T.values.withUnsafeBufferPointer { tp in
                    cross.withUnsafeMutableBufferPointer { cp in
                        BLAS.sgemm(transB: true, m: m, n: n, k: d, a: xp.baseAddress! + start * d, lda: d,
                                   b: tp.baseAddress!, ldb: d, c: cp.baseAddress!, ldc: n)
                    }
                }
            }
            for r in 0..<m {
                let q = X.row(start + r)
                let qn = Self.squaredNorm(q)
                // Upper bounds of the true squared distances; the k-th smallest bounds the k-th neighbour.
                var upper = [Double](repeating: 0, count: n)
                var lower = [Double](repeating: 0, count: n)
                for j in 0..<n {
                    let est = qn + trainNorms[j] - 2 * Double(cross[r * n + j])
                    let err = gamma * (qn + trainNorms[j]) + 1e-30
                    upper[j] = est + err
                    lower[j] = est - err
                }
                let threshold = Self.kthSmallest(upper, k)
                var candidates: [(dist: Double, index: Int)] = []
                for j in 0..<n where lower[j] <= threshold {
                    candidates.append((Self.exactSquaredDistance(q, T.row(j)), j))
                }
                // Stable order: distance, then training index.
                candidates.sort { $0.dist < $1.dist || ($0.dist == $1.dist && $0.index < $1.index) }
                result.append(candidates.prefix(k).map { $0.index })
            }
            start += m
        }
        return result
    }

    /// Predicted class index of each query row (majority vote; tie → lowest class index).
    public func predict(_ X: FeatureMatrix) throws -> [Int] {
        try neighbors(X).map { nb in Self.vote(nb.map { labels[$0] }) }
    }

    /// Fraction of neighbours of each class (scikit-learn `predict_proba` with uniform weights).
    public func probabilities(_ X: FeatureMatrix, numClasses: Int) throws -> [[Double]] {
        try neighbors(X).map { nb in
            var p = [Double](repeating: 0, count: numClasses)
            for i in nb where labels[i] < numClasses { p[labels[i]] += 1 / Double(nb.count) }
            return p
        }
    }

    /// The most common label; ties go to the lowest label.
    static func vote(_ neighbourLabels: [Int]) -> Int {
        var counts: [Int: Int] = [:]
        for l in neighbourLabels { counts[l, default: 0] += 1 }
        var best = Int.max, bestCount = -1
        for (l, c) in counts where c > bestCount || (c == bestCount && l < best) {
            best = l; bestCount = c
        }
        return best
    }

    static func squaredNorm(_ v: ArraySlice<Float>) -> Double {
        var s = 0.0
        for x in v { s += Double(x) * Double(x) }
        return s
    }

    static func exactSquaredDistance(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
        var s = 0.0
        var i = a.startIndex, j = b.startIndex
        while i < a.endIndex {
            let diff = Double(a[i]) - Double(b[j])
            s += diff * diff
            i += 1; j += 1
        }
        return s
    }

    /// The k-th smallest value (1-based k) of `v`.
    static func kthSmallest(_ v: [Double], _ k: Int) -> Double {
        // n is at most a few thousand: a sort is simple and fast enough next to the sgemm.
        v.sorted()[k - 1]
    }
}

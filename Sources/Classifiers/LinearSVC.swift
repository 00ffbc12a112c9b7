import SeafoldCore

/// Linear support vector classifier with scikit-learn `SVC(kernel='linear', C=1, tol=1e-3)`
/// semantics, i.e. libsvm's C-SVC: one binary machine per class pair (i < j in class-index
/// order, class i as +1, class j as −1, samples of i then j in training order), each solved by
/// `SMOSolver` (WSS3, no shrinking) on the linear kernel K = X Xᵀ.
///
/// Prediction is libsvm's one-vs-one vote: decision value > 0 votes for the pair's first
/// class, otherwise (including exactly 0) for the second; a tie in votes goes to the first
/// (lowest-index) class among the tied. Classes are the distinct training labels in increasing
/// order (scikit-learn's `classes_`); a class absent from training is never predicted.
///
/// The Gram matrix of all training samples is computed once in Double with BLAS dgemm and
/// shared by the pairs (n ≤ `maxGramSamples` samples: 32 MB at n = 2,000). Because the kernel
/// is linear, each machine is stored as its primal weight vector w = Σ α_t y_t x_t (Double),
/// so predicting costs one dot product per pair.
public struct LinearSVC: Sendable {
    /// One binary machine of the one-vs-one ensemble.
    public struct PairMachine: Sendable {
        /// Class labels (values of `classes`) voted for when the decision is > 0 / ≤ 0.
        public var first: Int
        public var second: Int
        /// Primal weights w = Σ α_t y_t x_t.
        public var weights: [Double]
        /// libsvm's ρ; the decision value is w·x − ρ (so the intercept is −ρ).
        public var rho: Double
        /// Dual variables of the pair's samples (samples of `first`, then of `second`, in training order).
        public var alpha: [Double]
        public var iterations: Int
        public var converged: Bool
    }

    public let C: Double
    public let tolerance: Double
    /// Upper bound on the training-set size (the Gram matrix is n² Doubles).
    public var maxGramSamples = 16_384
    /// Distinct training labels, ascending.
    public private(set) var classes: [Int] = []
    /// Machines in libsvm's pair order (0,1), (0,2), …, (1,2), … over `classes`.
    public private(set) var machines: [PairMachine] = []
    /// Non-fatal notes, e.g. a pair that hit the iteration cap (libsvm prints the same warning).
    public private(set) var warnings: [String] = []

    public init(C: Double = 1, tolerance: Double = 1e-3) {
        self.C = C
        self.tolerance = tolerance
    }

    public mutating func fit(_ X: FeatureMatrix, labels: [Int]) throws {
        try LabelCheck.validate(X, labels, who: "LinearSVC.fit")
        guard C > 0, tolerance > 0 else {
            throw SeafoldError.config(key: "heads.svm", reason: "C (\(C)) and tolerance (\(tolerance)) must be positive")
        }
        let cls = Array(Set(labels)).sorted()
        guard cls.count >= 2 else {
            throw SeafoldError.badInput(path: "LinearSVC.fit",
                                        reason: "the training labels contain only class \(cls.first ?? -1); an SVM needs at least two classes")
        }
        guard X.rows <= maxGramSamples else {
            throw SeafoldError.badInput(path: "LinearSVC.fit",
                                        reason: "\(X.rows) training samples exceed maxGramSamples (\(maxGramSamples)); the Gram matrix would not fit in memory")
        }
        let n = X.rows, d = X.cols
        let xd = X.values.map(Double.init)
        var gram = [Double](repeating: 0, count: n * n)
        xd.withUnsafeBufferPointer { xp in
            gram.withUnsafeMutableBufferPointer { gp in
                BLAS.dgemm(transB: true, m: n, n: n, k: d, a: xp.baseAddress!, lda: d,
                           b: xp.baseAddress!, ldb: d, c: gp.baseAddress!, ldc: n)
            }
        }
        var members: [Int: [Int]] = [:]
        for (t, c) in labels.enumerated() { members[c, default: []].append(t) }

        var out: [PairMachine] = []
        var notes: [String] = []
        for a in 0..<cls.count {
            for b in (a + 1)..<cls.count {
                let idx = members[cls[a]]! + members[cls[b]]!
                let na = members[cls[a]]!.count
                let l = idx.count
                var sub = [Double](repeating: 0, count: l * l)
                for r in 0..<l {
                    let src = idx[r] * n
                    for s in 0..<l { sub[r * l + s] = gram[src + idx[s]] }
                }
                let y = (0..<l).map { $0 < na ? 1.0 : -1.0 }
                let sol = SMOSolver.solve(gram: sub, y: y, C: C, tolerance: tolerance)
                if !sol.converged {
                    notes.append("SVM pair (\(cls[a]), \(cls[b])): reached the maximum number of iterations (\(sol.iterations)); the solution may not meet tolerance \(tolerance)")
                }
                var w = [Double](repeating: 0, count: d)
                for (r, t) in idx.enumerated() where sol.alpha[r] != 0 {
                    let coef = sol.alpha[r] * y[r]
                    let base = t * d
                    for c in 0..<d { w[c] += coef * xd[base + c] }
                }
                out.append(PairMachine(first: cls[a], second: cls[b], weights: w, rho: sol.rho,
                                       alpha: sol.alpha, iterations: sol.iterations, converged: sol.converged))
            }
        }
        classes = cls
        machines = out
        warnings = notes
    }

    /// Decision values of each query row for each machine (libsvm's `dec_values`, pair order).
    public func decisionValues(_ X: FeatureMatrix) throws -> [[Double]] {
        guard let d = machines.first?.weights.count else {
            throw SeafoldError.message("LinearSVC: call fit(_:labels:) before predicting")
        }
        guard X.cols == d else {
            throw SeafoldError.mismatch(what: "LinearSVC query features", expected: "\(d) columns", found: "\(X.cols) columns")
        }
        return (0..<X.rows).map { r in
            let x = X.row(r)
            return machines.map { m in
                var s = 0.0
                var c = 0
                for v in x { s += m.weights[c] * Double(v); c += 1 }
                return s - m.rho
            }
        }
    }

    /// Predicted class label of each query row (one-vs-one vote).
    public func predict(_ X: FeatureMatrix) throws -> [Int] {
        try decisionValues(X).map { classes[Self.vote(decisions: $0, numClasses: classes.count)] }
    }

    /// libsvm's vote: pair p = (i, j) in order (0,1), (0,2), …; decision > 0 → i, else j.
    /// Returns the index (0..<numClasses) with most votes, the lowest index among ties.
    public static func vote(decisions: [Double], numClasses: Int) -> Int {
        var votes = [Int](repeating: 0, count: numClasses)
        var p = 0
        for i in 0..<numClasses {
            for j in (i + 1)..<numClasses where p < decisions.count {
                if decisions[p] > 0 { votes[i] += 1 } else { votes[j] += 1 }
                p += 1
            }
        }
        var best = 0
        for c in 1..<max(numClasses, 1) where votes[c] > votes[best] { best = c }
        return best
    }
}

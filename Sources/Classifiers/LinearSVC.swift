import CLibSVM
import SeafoldCore

/// Linear support vector classifier with scikit-learn `SVC(kernel='linear', C=1, tol=1e-3)`
/// semantics, trained and evaluated by libsvm itself (the system's libsvm, the library that
/// scikit-learn's SVC wraps): C-SVC, linear kernel, `eps` = tolerance, shrinking on, a 200 MB
/// kernel cache (scikit-learn's defaults). One binary machine per class pair (i < j in
/// class-index order, class i as +1, class j as −1, samples of i then j in training order).
///
/// libsvm orders classes by first appearance while scikit-learn's copy sorts them, so the
/// training rows are handed over stably sorted by class (and the labels as class indices
/// 0..<k, which also avoids libsvm's ±1 swap): pairs, sub-problems and the vote's tie order
/// are then scikit-learn's. Prediction is libsvm's one-vs-one vote (`svm_predict_values`):
/// decision value > 0 votes for the pair's first class, otherwise (including exactly 0) for the
/// second; a tie goes to the lowest-index class. Classes are the distinct training labels in
/// increasing order (scikit-learn's `classes_`); a class absent from training is never predicted.
public struct LinearSVC: Sendable {
    /// One binary machine of the one-vs-one ensemble, read back from the libsvm model.
    public struct PairMachine: Sendable {
        /// Class labels (values of `classes`) voted for when the decision is > 0 / ≤ 0.
        public var first: Int
        public var second: Int
        /// Primal weights w = Σ α_t y_t x_t (scikit-learn's `coef_` row).
        public var weights: [Double]
        /// libsvm's ρ; the decision value is w·x − ρ (so the intercept is −ρ).
        public var rho: Double
        /// Dual variables of the pair's samples (samples of `first`, then of `second`, in training order).
        public var alpha: [Double]
    }

    public let C: Double
    public let tolerance: Double
    /// libsvm's kernel cache in MB (scikit-learn's `cache_size` default).
    public var cacheMB = 200.0
    /// Distinct training labels, ascending.
    public private(set) var classes: [Int] = []
    /// Machines in libsvm's pair order (0,1), (0,2), …, (1,2), … over `classes`.
    public private(set) var machines: [PairMachine] = []
    private var model: LibSVMModel?

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
        let index = Dictionary(uniqueKeysWithValues: cls.enumerated().map { ($1, $0) })
        // Stable sort by class: libsvm then groups classes in scikit-learn's (sorted) order.
        let order = labels.indices.sorted { (index[labels[$0]]!, $0) < (index[labels[$1]]!, $1) }
        let m = try LibSVMModel(X, rows: order, y: order.map { Double(index[labels[$0]]!) },
                                C: C, eps: tolerance, cacheMB: cacheMB, classes: cls.count)
        let d = X.cols
        var members: [[Int]] = Array(repeating: [], count: cls.count)
        for (t, c) in labels.enumerated() { members[index[c]!].append(t) }
        let start = m.nSV.indices.map { m.nSV[..<$0].reduce(0, +) }
        var out: [PairMachine] = []
        var p = 0
        for i in 0..<cls.count {
            for j in (i + 1)..<cls.count {
                let pairSamples = members[i] + members[j]
                let position = Dictionary(uniqueKeysWithValues: pairSamples.enumerated().map { ($1, $0) })
                var w = [Double](repeating: 0, count: d)
                var alpha = [Double](repeating: 0, count: pairSamples.count)
                // libsvm's layout: class i's SVs carry the pair's coefficient in row j−1, class j's in row i.
                for (cl, row) in [(i, j - 1), (j, i)] {
                    for k in start[cl]..<(start[cl] + m.nSV[cl]) {
                        let coef = m.coefficient(row: row, sv: k)
                        let t = order[m.trainingIndex(sv: k)]
                        alpha[position[t]!] = abs(coef)
                        for (c, v) in X.row(t).enumerated() { w[c] += coef * Double(v) }
                    }
                }
                out.append(PairMachine(first: cls[i], second: cls[j], weights: w, rho: m.rho(p), alpha: alpha))
                p += 1
            }
        }
        classes = cls
        machines = out
        model = m
    }

    /// Decision values of each query row for each machine (libsvm's `dec_values`, pair order).
    public func decisionValues(_ X: FeatureMatrix) throws -> [[Double]] {
        try evaluate(X).map(\.decisions)
    }

    /// Predicted class label of each query row (libsvm's one-vs-one vote).
    public func predict(_ X: FeatureMatrix) throws -> [Int] {
        try evaluate(X).map { classes[$0.winner] }
    }

    private func evaluate(_ X: FeatureMatrix) throws -> [(decisions: [Double], winner: Int)] {
        guard let model, let d = machines.first?.weights.count else {
            throw SeafoldError.message("LinearSVC: call fit(_:labels:) before predicting")
        }
        guard X.cols == d else {
            throw SeafoldError.mismatch(what: "LinearSVC query features", expected: "\(d) columns", found: "\(X.cols) columns")
        }
        return (0..<X.rows).map { model.predict(X.row($0), pairs: machines.count) }
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

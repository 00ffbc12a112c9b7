import SeafoldCore

/// Test-set metrics with scikit-learn semantics (`confusion_matrix`, `accuracy_score`,
/// `precision_recall_fscore_support(average=None, labels=range(numClasses), zero_division="warn")`):
/// - `confusion[t][p]` counts samples of true class t predicted as p;
/// - precision_c = tp/(tp+fp), recall_c = tp/(tp+fn), F1_c = 2tp/(2tp+fp+fn) (scikit-learn ≥ 1.3);
/// - a ratio whose denominator is 0 (precision of a class never predicted, recall of a class
///   absent from the labels, F1 of a class neither present nor predicted) is 0.0 and adds a
///   warning naming the class, as scikit-learn's "warn" does (it warns and uses 0.0).
public struct ClassificationMetrics: Codable, Equatable, Sendable {
    public let numClasses: Int
    /// confusion[true][predicted], counts.
    public let confusion: [[Int]]
    public let accuracy: Double
    public let precision: [Double]
    public let recall: [Double]
    public let f1: [Double]
    /// Number of true samples of each class.
    public let support: [Int]
    /// Unweighted means over all `numClasses` classes (scikit-learn `average="macro"`).
    public let macroPrecision: Double
    public let macroRecall: Double
    public let macroF1: Double
    /// One sentence per ill-defined value, e.g.
    /// "precision of class craters (index 2) is ill-defined (no predicted samples): 0.0".
    public let warnings: [String]

    /// `classNames` (optional, `numClasses` entries) only make the warnings readable.
    public init(labels: [Int], predictions: [Int], numClasses: Int, classNames: [String]? = nil) throws {
        guard numClasses > 0 else {
            throw SeafoldError.badInput(path: "ClassificationMetrics", reason: "numClasses must be positive (got \(numClasses))")
        }
        guard labels.count == predictions.count else {
            throw SeafoldError.mismatch(what: "ClassificationMetrics predictions", expected: "\(labels.count) (one per label)",
                                        found: "\(predictions.count)")
        }
        guard !labels.isEmpty else {
            throw SeafoldError.badInput(path: "ClassificationMetrics", reason: "no samples to score")
        }
        if let bad = (labels + predictions).first(where: { $0 < 0 || $0 >= numClasses }) {
            throw SeafoldError.badInput(path: "ClassificationMetrics", reason: "class index \(bad) is outside 0..<\(numClasses)")
        }
        if let names = classNames, names.count != numClasses {
            throw SeafoldError.mismatch(what: "ClassificationMetrics class names", expected: "\(numClasses)", found: "\(names.count)")
        }
        func name(_ c: Int) -> String { classNames.map { "\($0[c]) (index \(c))" } ?? "\(c)" }

        var conf = [[Int]](repeating: [Int](repeating: 0, count: numClasses), count: numClasses)
        for (t, p) in zip(labels, predictions) { conf[t][p] += 1 }
        var prec: [Double] = [], rec: [Double] = [], f: [Double] = [], sup: [Int] = [], notes: [String] = []
        var correct = 0
        for c in 0..<numClasses {
            let tp = conf[c][c]
            correct += tp
            let trueCount = conf[c].reduce(0, +)
            let predCount = (0..<numClasses).reduce(0) { $0 + conf[$1][c] }
            let fp = predCount - tp, fn = trueCount - tp
            sup.append(trueCount)
            if predCount == 0 {
                prec.append(0); notes.append("precision of class \(name(c)) is ill-defined (no predicted samples): 0.0")
            } else { prec.append(Double(tp) / Double(predCount)) }
            if trueCount == 0 {
                rec.append(0); notes.append("recall of class \(name(c)) is ill-defined (no true samples): 0.0")
            } else { rec.append(Double(tp) / Double(trueCount)) }
            let fDen = 2 * tp + fp + fn
            if fDen == 0 {
                f.append(0); notes.append("F1 of class \(name(c)) is ill-defined (no true nor predicted samples): 0.0")
            } else { f.append(Double(2 * tp) / Double(fDen)) }
        }
        self.numClasses = numClasses
        confusion = conf
        accuracy = Double(correct) / Double(labels.count)
        precision = prec; recall = rec; f1 = f; support = sup; warnings = notes
        let k = Double(numClasses)
        macroPrecision = prec.reduce(0, +) / k
        macroRecall = rec.reduce(0, +) / k
        macroF1 = f.reduce(0, +) / k
    }
}

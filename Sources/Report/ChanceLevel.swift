import Foundation
import Pipeline

/// Whether one head × model learned anything in one column: its test predictions pooled over
/// the column's folds (each image is tested once per cross-validation) against the accuracy of
/// always predicting the majority class of those test labels. For imbalanced data that is the
/// honest baseline (single-site's "flat" is 61 %), for balanced data it is about 1/classes.
///
/// Test: one-sided exact binomial test (scipy.stats.binomtest(correct, total, chanceRate,
/// alternative="greater")), p = P(X ≥ correct) with X ~ Binomial(total, chanceRate). A head
/// is "clearly above chance" when p < `ChanceLevel.alpha`; otherwise the report flags it as not
/// having learned. A head that learned something but scores below the majority rate (e.g. a
/// balanced sampler trading accuracy for minority recall) is flagged too: it is not better
/// than the trivial classifier at what Table 1 measures.
public struct ChanceEntry: Codable, Equatable, Sendable {
    public var column: String
    public var model: ModelKind
    public var head: HeadKind
    /// Correct test predictions and test images, summed over the folds that have a result.
    public var correct: Int
    public var total: Int
    public var folds: Int
    public var accuracy: Double
    /// The most frequent class among the pooled test labels, and its share (the chance rate).
    public var majorityClass: String
    public var chanceRate: Double
    /// One-sided p-value P(X ≥ correct), X ~ Binomial(total, chanceRate).
    public var pValue: Double
    public var aboveChance: Bool
}

/// Builds and phrases the chance-level check (see `ChanceEntry`).
public enum ChanceLevel {
    /// Significance level of "clearly above chance" (one-sided).
    public static let alpha = 0.01

    /// One entry per column × model × head that has at least one fold with test predictions,
    /// in the order columns, heads (SVM, KNN, FC, output layer), models (FT, Base).
    public static func entries(_ results: RunResults, columns: [String]) -> [ChanceEntry] {
        var out: [ChanceEntry] = []
        for column in columns {
            for head in Aggregate.tableHeads + [.output] {
                for model in [ModelKind.ft, .base] {
                    var seen = Set<ShardKey>()
                    var labels: [Int] = [], correct = 0
                    var classes: [String] = []
                    for r in results.heads where r.shard.column == column && r.model == model && r.head == head {
                        guard seen.insert(r.shard).inserted, r.labels.count == r.predictions.count else { continue }
                        if classes.isEmpty { classes = r.classes }
                        labels += r.labels
                        correct += zip(r.labels, r.predictions).filter { $0 == $1 }.count
                    }
                    guard !labels.isEmpty else { continue }
                    var counts: [Int: Int] = [:]
                    for l in labels { counts[l, default: 0] += 1 }
                    // Majority class; ties go to the lower label so the choice is deterministic.
                    let top = counts.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }!
                    let rate = Double(top.value) / Double(labels.count)
                    let p = binomialUpperTail(successes: correct, trials: labels.count, probability: rate)
                    out.append(ChanceEntry(column: column, model: model, head: head, correct: correct, total: labels.count,
                                           folds: seen.count, accuracy: Double(correct) / Double(labels.count),
                                           majorityClass: top.key < classes.count ? classes[top.key] : "class \(top.key)",
                                           chanceRate: rate, pValue: p, aboveChance: p < alpha))
                }
            }
        }
        return out
    }

    /// P(X ≥ k) for X ~ Binomial(n, p), summed exactly in log space (n up to millions is fine).
    public static func binomialUpperTail(successes k: Int, trials n: Int, probability p: Double) -> Double {
        guard n >= 0, k <= n else { return 0 }
        if k <= 0 { return 1 }
        if p <= 0 { return 0 }
        if p >= 1 { return 1 }
        func lnFactorial(_ m: Int) -> Double { lgamma(Double(m) + 1) }
        let lp = log(p), lq = log1p(-p), lnFactN = lnFactorial(n)
        var terms: [Double] = []
        terms.reserveCapacity(n - k + 1)
        for i in k...n {
            terms.append(lnFactN - lnFactorial(i) - lnFactorial(n - i) + Double(i) * lp + Double(n - i) * lq)
        }
        let m = terms.max()!
        let sum = terms.reduce(0) { $0 + exp($1 - m) }
        return min(1, exp(m) * sum)
    }

    /// The entries that did not clear chance.
    public static func flagged(_ entries: [ChanceEntry]) -> [ChanceEntry] { entries.filter { !$0.aboveChance } }

    /// Whether the Base (or FT) model of a head stayed at chance in a column.
    public static func atChance(_ entries: [ChanceEntry], column: String, model: ModelKind, head: HeadKind) -> Bool {
        entries.contains { $0.column == column && $0.model == model && $0.head == head && !$0.aboveChance }
    }

    /// Sentences for the FT vs Base table: a difference against a model that never learned
    /// measures that failure, not the benefit of fine-tuning.
    public static func pairedNotes(_ entries: [ChanceEntry], heads: [HeadKind]) -> [String] {
        var notes: [String] = []
        for e in flagged(entries) where heads.contains(e.head) {
            let other: ModelKind = e.model == .base ? .ft : .base
            notes.append("\(e.column) \(NumberFormat.headShort(e.head)): \(e.model.rawValue) stayed at chance "
                + "(\(NumberFormat.fixed(e.accuracy * 100, 2))% vs \(NumberFormat.fixed(e.chanceRate * 100, 2))% for always '\(e.majorityClass)'), "
                + "so FT−Base there measures that \(e.model.rawValue) did not learn, not how much better \(other.rawValue) is.")
        }
        return notes
    }

    /// The check as a table: every column × head × model with its pooled accuracy, the chance
    /// rate, p and the verdict; the first note names the flagged ones (or says there are none).
    public static func grid(_ entries: [ChanceEntry]) -> Grid {
        func item(_ s: String) -> Grid.Item { Grid.Item(text: s, bold: false, note: nil, isLabel: false) }
        let rows: [[Grid.Item]] = entries.map { e in
            [Grid.label(e.column), Grid.label(NumberFormat.headShort(e.head)), Grid.label(e.model.rawValue),
             item("\(NumberFormat.fixed(e.accuracy * 100, 2))% (\(e.correct)/\(e.total))"),
             item("\(NumberFormat.fixed(e.chanceRate * 100, 2))% (\(e.majorityClass))"),
             item(NumberFormat.pValue(e.pValue)),
             Grid.Item(text: e.aboveChance ? "yes" : "NO: at chance", bold: !e.aboveChance, note: nil, isLabel: false)]
        }
        let bad = flagged(entries)
        let summary = bad.isEmpty
            ? "Every head is clearly above chance."
            : "Did not learn (not clearly above chance): " + bad.map { "\($0.model.rawValue) \(NumberFormat.headShort($0.head)) on \($0.column)" }.joined(separator: ", ") + "."
        let method = "Test predictions pooled over each column's folds, against always predicting the majority class of those test labels; "
            + "one-sided exact binomial test, clearly above chance when p < \(NumberFormat.fixed(alpha, 2))."
        let names = ["Column", "Head", "Model", "Accuracy (correct/total)", "Chance (majority class)", "p (one-sided)", "Above chance"]
        return Grid(id: "chance", title: "Heads at chance: did each head learn?", notes: [summary, method],
                    header: [names.map { Grid.Header(text: $0, span: 1) }],
                    sections: [Grid.Section(title: nil, rows: rows)], gaps: [])
    }
}

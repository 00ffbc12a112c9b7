import Foundation
import Pipeline

/// The corrected resampled t-test of Nadeau & Bengio (2003), as Bouckaert & Frank (2004)
/// recommend it for r × k-fold cross-validation: with d_j = FT − Base on each of the n = k·r
/// repeat × fold cells, mean d̄ and sample variance σ̂² (ddof = 1),
///
///     t = d̄ / sqrt((1/n + n_test/n_train) · σ̂²),   df = n − 1,   two-sided p.
///
/// The n_test/n_train term widens the variance for the overlap of training sets between cells
/// (the plain paired t-test ignores it and is optimistic). With cells of slightly different
/// sizes, n_test and n_train are their means over the cells.
public struct CorrectedResampledTest: Codable, Equatable, Sendable {
    public var n: Int
    public var meanDifference: Double?
    public var variance: Double?
    public var testTrainRatio: Double
    public var t: Double?
    public var df: Int?
    public var p: Double?
    public var ftBetter: Int
    public var baseBetter: Int
    public var ties: Int
    public var note: String?

    public init(differences d: [Double], testTrainRatio ratio: Double) {
        n = d.count
        testTrainRatio = ratio
        ftBetter = d.filter { $0 > 0 }.count
        baseBetter = d.filter { $0 < 0 }.count
        ties = d.filter { $0 == 0 }.count
        meanDifference = d.isEmpty ? nil : d.reduce(0, +) / Double(d.count)
        let sd = MeanStd(d, ddof: 1)?.std
        variance = sd.map { $0 * $0 }
        t = nil; df = nil; p = nil; note = nil
        guard n >= 2, let md = meanDifference, let sd else {
            note = "the corrected t-test needs at least 2 cells with both FT and Base (have \(n))"
            return
        }
        guard sd > 1e-12 * max(1, abs(md)) else {
            note = "all \(n) differences are equal; t is undefined"
            return
        }
        let tv = md / ((1 / Double(n) + ratio) * sd * sd).squareRoot()
        t = tv
        df = n - 1
        p = StudentT.twoSidedP(tv, df: Double(n - 1))
    }
}

/// One line of the repeated cross-validation table: a metric of one head in one column, over
/// every repeat × fold cell, for FT and Base, with the corrected resampled t-test.
public struct RepeatedCVEntry: Codable, Equatable, Sendable {
    public struct Value: Codable, Equatable, Sendable {
        public var `repeat`: Int
        public var fold: Int
        public var model: ModelKind
        public var value: Double
    }
    public var column: String
    public var head: HeadKind
    /// "accuracy", "precision" or "recall" (the last two of the minority class).
    public var metric: String
    public var repeats: Int
    public var folds: Int
    public var values: [Value]
    public var ft: MeanStd?
    public var base: MeanStd?
    public var test: CorrectedResampledTest
}

/// Repeated cross-validation (`repeats:` > 1): tables over all repeats × folds. Empty when the
/// run has one repeat (the paper's tables then say everything).
public enum RepeatedCV {
    public static let metrics = ["accuracy", "precision", "recall"]

    public static func entries(_ results: RunResults) -> [RepeatedCVEntry] {
        guard results.heads.contains(where: { $0.shard.repeat > 0 }) else { return [] }
        var out: [RepeatedCVEntry] = []
        var columns = results.columns
        for c in Set(results.heads.map(\.shard.column)).subtracting(columns).sorted() { columns.append(c) }
        for column in columns {
            let rs = results.heads.filter { $0.shard.column == column }
            guard let any = rs.first else { continue }
            let total = results.foldDistributions.first { $0.dataset == any.shard.dataset }.map { $0.counts.joined().reduce(0, +) }
            let repeats = Set(rs.map(\.shard.repeat)).count, folds = Set(rs.map(\.shard.fold)).count
            for head in Aggregate.tableHeads + [.output] {
                let hs = rs.filter { $0.head == head }
                guard !hs.isEmpty else { continue }
                for metric in metrics {
                    func value(_ r: HeadResult) -> Double? {
                        if metric == "accuracy" { return r.accuracy }
                        guard let i = r.classes.firstIndex(of: results.minorityClass) else { return nil }
                        let v = metric == "precision" ? r.precision : r.recall
                        return i < v.count ? v[i] : nil
                    }
                    var values: [RepeatedCVEntry.Value] = []
                    var byCell: [ShardKey: [ModelKind: (Double, Int)]] = [:]
                    for r in hs.sorted(by: { $0.shard < $1.shard }) {
                        guard let v = value(r), byCell[r.shard]?[r.model] == nil else { continue }
                        byCell[r.shard, default: [:]][r.model] = (v, r.labels.count)
                        values.append(.init(repeat: r.shard.repeat, fold: r.shard.fold, model: r.model, value: v))
                    }
                    guard !values.isEmpty else { continue }
                    let paired = byCell.keys.sorted().compactMap { k -> (Double, Int)? in
                        guard let f = byCell[k]?[.ft], let b = byCell[k]?[.base] else { return nil }
                        return (f.0 - b.0, f.1)
                    }
                    let meanTest = paired.isEmpty ? 0 : Double(paired.map(\.1).reduce(0, +)) / Double(paired.count)
                    let meanTrain = total.map { Double($0) - meanTest } ?? meanTest * Double(max(folds - 1, 1))
                    let ratio = meanTrain > 0 ? meanTest / meanTrain : 0
                    out.append(RepeatedCVEntry(
                        column: column, head: head, metric: metric, repeats: repeats, folds: folds, values: values,
                        ft: MeanStd(values.filter { $0.model == .ft }.map(\.value), ddof: results.ddof),
                        base: MeanStd(values.filter { $0.model == .base }.map(\.value), ddof: results.ddof),
                        test: CorrectedResampledTest(differences: paired.map(\.0), testTrainRatio: ratio)))
                }
            }
        }
        return out
    }

    /// The summary table: mean ± std over repeat × fold cells and the corrected test.
    public static func grid(_ entries: [RepeatedCVEntry], ddof: Int, minorityClass: String) -> Grid {
        func item(_ s: String, note: String? = nil) -> Grid.Item { Grid.Item(text: s, bold: false, note: note, isLabel: false) }
        func ms(_ m: MeanStd?) -> Grid.Item {
            guard let m else { return item(NumberFormat.dash, note: "no cell has this value") }
            var s = NumberFormat.fixed(m.mean * 100, 2)
            if let sd = m.std { s += "±" + NumberFormat.fixed(sd * 100, 2) }
            return item(s + "%")
        }
        let rows = entries.map { e -> [Grid.Item] in
            let t = e.test
            return [Grid.label(e.column), Grid.label(NumberFormat.headShort(e.head)),
                    Grid.label(e.metric == "accuracy" ? "accuracy" : "\(minorityClass) \(e.metric)"),
                    item("\(e.repeats)×\(e.folds)"), ms(e.ft), ms(e.base),
                    item(t.meanDifference.map { NumberFormat.fixed($0 * 100, 2) + " pp" } ?? NumberFormat.dash),
                    item(t.t.map { NumberFormat.fixed($0, 3) } ?? NumberFormat.dash, note: t.note),
                    item(t.df.map(String.init) ?? NumberFormat.dash),
                    item(t.p.map(NumberFormat.pValue) ?? NumberFormat.dash, note: t.note),
                    item("\(t.ftBetter) of \(t.n)")]
        }
        let names = ["Column", "Head", "Metric", "repeats×folds", "FT", "Base", "mean FT−Base", "t (corrected)", "df", "p (two-sided)", "FT > Base"]
        return Grid(id: "repeated_cv", title: "Repeated cross-validation: FT vs Base over repeats × folds",
                    notes: ["mean ± std (ddof=\(ddof)) over every repeat × fold cell. t is the corrected resampled t-test "
                        + "(Nadeau & Bengio 2003; Bouckaert & Frank 2004): t = mean(d) / sqrt((1/n + n_test/n_train)·var(d)), "
                        + "d = FT − Base per cell, n = repeats × folds, df = n − 1. It allows for the training sets the cells share, "
                        + "which the per-fold paired t-test does not."],
                    header: [names.map { Grid.Header(text: $0, span: 1) }],
                    sections: [Grid.Section(title: nil, rows: rows)],
                    gaps: entries.compactMap { e in e.test.note.map { "\(e.column) \(NumberFormat.headShort(e.head)) \(e.metric): \($0)" } })
    }

    /// One row per repeat × fold × model (1-based, as the paper's folds), for pandas.
    public static func csv(_ entries: [RepeatedCVEntry], minorityClass: String) -> String {
        var out = "dataset,variant,head,metric,class,repeat,fold,model,value\n"
        for e in entries {
            let slash = e.column.lastIndex(of: "/")
            let d = slash.map { String(e.column[..<$0]) } ?? e.column
            let v = slash.map { String(e.column[e.column.index(after: $0)...]) } ?? ""
            for x in e.values {
                let fields = [d, v, e.head.rawValue, e.metric, e.metric == "accuracy" ? "" : minorityClass,
                              String(x.repeat + 1), String(x.fold + 1), x.model.rawValue, "\(x.value)"]
                out += fields.map(CSVTables.quote).joined(separator: ",") + "\n"
            }
        }
        return out
    }

    /// The corrected tests, one row per column × head × metric.
    public static func testsCSV(_ entries: [RepeatedCVEntry]) -> String {
        var out = "dataset,variant,head,metric,cells,mean_difference,variance,test_train_ratio,t,df,p_two_sided,ft_better,base_better,ties,note\n"
        for e in entries {
            let slash = e.column.lastIndex(of: "/")
            let d = slash.map { String(e.column[..<$0]) } ?? e.column
            let v = slash.map { String(e.column[e.column.index(after: $0)...]) } ?? ""
            let t = e.test
            func opt<T>(_ x: T?) -> String { x.map { "\($0)" } ?? "" }
            let fields = [d, v, e.head.rawValue, e.metric, String(t.n), opt(t.meanDifference), opt(t.variance), "\(t.testTrainRatio)",
                          opt(t.t), opt(t.df), opt(t.p), String(t.ftBetter), String(t.baseBetter), String(t.ties), t.note ?? ""]
            out += fields.map(CSVTables.quote).joined(separator: ",") + "\n"
        }
        return out
    }
}

extension RunResults {
    /// The results of repeat 0 only: the paper's tables are one cross-validation.
    public var firstRepeat: RunResults {
        var r = self
        r.heads = heads.filter { $0.shard.repeat == 0 }
        r.divergences = divergences.filter { $0.shard.repeat == 0 }
        r.curves = curves.filter { $0.shard.repeat == 0 }
        r.explanations = explanations.filter { $0.shard.repeat == 0 }
        r.missing = missing.filter { ($0.shard?.repeat ?? 0) == 0 }
        return r
    }
}

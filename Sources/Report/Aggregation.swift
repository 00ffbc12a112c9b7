import Foundation
import Pipeline

/// Table 1 (and the output layer beside it): test accuracy of one head × model × column.
public struct AccuracyEntry: Codable, Equatable, Sendable {
    public var column: String
    public var model: ModelKind
    public var head: HeadKind
    public var cell: Cell
}

/// Table 2: precision or recall of the minority class for one head × model × column.
public struct MinorityEntry: Codable, Equatable, Sendable {
    public var column: String
    public var model: ModelKind
    public var head: HeadKind
    /// "precision" or "recall".
    public var metric: String
    public var cell: Cell
}

/// Table 3: KL(FT‖Base) or Euclidean distance of one layer in one column.
public struct DivergenceEntry: Codable, Equatable, Sendable {
    public var column: String
    public var layer: String
    /// "kl" or "euclidean".
    public var metric: String
    public var cell: Cell
}

/// FT vs Base paired test for one head in one column.
public struct PairedEntry: Codable, Equatable, Sendable {
    public var column: String
    public var head: HeadKind
    public var test: PairedTest
}

/// Aggregated results: every table of the report, computed once from a `RunResults` so that
/// all formats print the same numbers. Std uses `results.ddof` (numpy `np.std` semantics);
/// missing folds are gaps with reasons, never zeros.
public struct Aggregate: Codable, Equatable, Sendable {
    public var ddof: Int
    public var columns: [String]
    /// Fold indices (0-based) each column is expected to have.
    public var foldsByColumn: [String: [Int]]
    /// The dataset of each column ("multi-site" for "multi-site/balanced").
    public var datasetByColumn: [String: String]
    public var minorityClass: String
    public var table1: [AccuracyEntry]
    public var table2: [MinorityEntry]
    public var table3: [DivergenceEntry]
    /// Layers of Table 3 in row order.
    public var layers: [String]
    public var paired: [PairedEntry]
    public var perClass: [PerClassEntry]
    public var confusions: [ConfusionEntry]
    public var lime: [LimeEntry]
    /// Which heads learned: pooled test accuracy against the majority-class rate (`ChanceLevel`).
    public var chance: [ChanceEntry]
    /// Per-layer significance of the weight change and the conv1-changes-most test.
    public var weightSignificance: WeightSignificance

    public static let tableHeads: [HeadKind] = [.svm, .knn, .fc]
    public static let paperLayers = ["conv1", "conv2", "conv3", "conv4", "conv5", "fc1", "fc2"]

    public init(_ results: RunResults) {
        // The paper's tables are one cross-validation; repeats > 0 go to `RepeatedCV`.
        let results = results.firstRepeat
        let ddof = results.ddof
        self.ddof = ddof
        minorityClass = results.minorityClass
        let index = FoldIndex(results)
        columns = index.columns
        foldsByColumn = index.folds
        datasetByColumn = Dictionary(uniqueKeysWithValues: index.columns.map { ($0, index.dataset($0)) })

        var t1: [AccuracyEntry] = []
        var t2: [MinorityEntry] = []
        var pairs: [PairedEntry] = []
        for head in Aggregate.tableHeads + [.output] {
            for column in columns {
                var byModel: [ModelKind: Cell] = [:]
                for model in [ModelKind.ft, .base] {
                    let cell = index.cell(column: column, kinds: ["heads"], model: model, head: head, ddof: ddof) { r in
                        r.model == model && r.head == head ? r.accuracy : nil
                    }
                    byModel[model] = cell
                    t1.append(AccuracyEntry(column: column, model: model, head: head, cell: cell))
                    guard head != .output else { continue }
                    for metric in ["precision", "recall"] {
                        let c = index.cell(column: column, kinds: ["heads"], model: model, head: head, ddof: ddof,
                                           emptyFallback: index.minorityAbsentReason(column: column)) { r in
                            guard r.model == model, r.head == head,
                                  let k = r.classes.firstIndex(of: results.minorityClass) else { return nil }
                            let values = metric == "precision" ? r.precision : r.recall
                            return k < values.count ? values[k] : nil
                        }
                        t2.append(MinorityEntry(column: column, model: model, head: head, metric: metric, cell: c))
                    }
                }
                pairs.append(PairedEntry(column: column, head: head,
                                         test: PairedTest(fineTuned: byModel[.ft]!.byFold, base: byModel[.base]!.byFold)))
            }
        }
        Aggregate.markBest(&t2, datasetOf: index.dataset)
        table1 = t1
        table2 = t2
        paired = pairs

        var layerSet = Set<String>()
        for d in results.divergences { for l in d.layers { layerSet.insert(l.layer) } }
        layers = Aggregate.paperLayers + layerSet.subtracting(Aggregate.paperLayers).sorted()
        var t3: [DivergenceEntry] = []
        for column in columns {
            for metric in ["kl", "euclidean"] {
                for layer in layers {
                    let cell = index.divergenceCell(column: column, ddof: ddof) { d in
                        guard let row = d.layers.first(where: { $0.layer == layer }) else { return nil }
                        return metric == "kl" ? row.kl : row.euclidean
                    }
                    t3.append(DivergenceEntry(column: column, layer: layer, metric: metric, cell: cell))
                }
            }
        }
        Aggregate.markLargest(&t3)
        table3 = t3
        weightSignificance = WeightSignificance(results, columns: columns, layerOrder: layers)
        perClass = PerClassEntry.build(results, index: index)
        confusions = ConfusionEntry.build(results, columns: columns)
        lime = LimeEntry.build(results, columns: columns)
        chance = ChanceLevel.entries(results, columns: columns)
    }

    /// Best (largest mean) per dataset × metric × head among its rows (models × variants), as the
    /// paper bolds the best result for each classifier. Ties are all marked.
    static func markBest(_ entries: inout [MinorityEntry], datasetOf: (String) -> String) {
        var best: [String: Double] = [:]
        func key(_ e: MinorityEntry) -> String { "\(datasetOf(e.column))\u{1}\(e.metric)\u{1}\(e.head.rawValue)" }
        for e in entries { if let m = e.cell.summary?.mean { best[key(e)] = max(best[key(e)] ?? -.infinity, m) } }
        for i in entries.indices {
            if let m = entries[i].cell.summary?.mean, let b = best[key(entries[i])], isTie(m, b) { entries[i].cell.marked = true }
        }
    }

    /// Largest mean per column × metric over layers (the paper bolds the largest change per dataset).
    static func markLargest(_ entries: inout [DivergenceEntry]) {
        var best: [String: Double] = [:]
        func key(_ e: DivergenceEntry) -> String { "\(e.column)\u{1}\(e.metric)" }
        for e in entries { if let m = e.cell.summary?.mean { best[key(e)] = max(best[key(e)] ?? -.infinity, m) } }
        for i in entries.indices {
            if let m = entries[i].cell.summary?.mean, let b = best[key(entries[i])], isTie(m, b) { entries[i].cell.marked = true }
        }
    }

    /// Means that differ only by floating-point rounding (e.g. 0.15/3 vs 0.05) count as a tie.
    static func isTie(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * max(1, abs(b)) }

    /// (dataset, variant) of a column.
    public func split(_ column: String) -> (dataset: String, variant: String) {
        let d = datasetByColumn[column] ?? column
        let rest = column.hasPrefix(d + "/") ? String(column.dropFirst(d.count + 1)) : ""
        return (d, rest)
    }

    // Lookups used by the formatters.
    public func accuracy(_ column: String, _ model: ModelKind, _ head: HeadKind) -> Cell? {
        table1.first { $0.column == column && $0.model == model && $0.head == head }?.cell
    }
    public func minority(_ column: String, _ model: ModelKind, _ head: HeadKind, _ metric: String) -> Cell? {
        table2.first { $0.column == column && $0.model == model && $0.head == head && $0.metric == metric }?.cell
    }
    public func divergence(_ column: String, _ layer: String, _ metric: String) -> Cell? {
        table3.first { $0.column == column && $0.layer == layer && $0.metric == metric }?.cell
    }
    /// Whether any result exists for the output layer (then it is shown beside the heads).
    public var hasOutputLayer: Bool { table1.contains { $0.head == .output && $0.cell.summary != nil } }
    /// The number of folds per column, or a range "2–3" if they differ.
    public var foldCountText: String {
        let counts = Set(columns.map { foldsByColumn[$0]?.count ?? 0 })
        guard let lo = counts.min(), let hi = counts.max() else { return "0" }
        return lo == hi ? "\(lo)" : "\(lo)–\(hi)"
    }
    /// The sentence every table carries: how std was computed and over how many folds.
    public var stdNote: String {
        "mean ± std over \(foldCountText) folds per column; std with ddof=\(ddof) (numpy np.std, ddof=0 is the population std). "
            + "\"—\" = no fold has a result; \"(k/n)\" = only k of n folds have results (missing folds are left out, never counted as zero)."
    }
}

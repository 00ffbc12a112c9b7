import Foundation
import Pipeline

/// Beyond the paper: precision, recall and F1 of every class (scikit-learn per-class values
/// from each fold's `HeadResult`), mean ± std over folds, for one head × model × column.
public struct PerClassEntry: Codable, Equatable, Sendable {
    public var column: String
    public var model: ModelKind
    public var head: HeadKind
    public var className: String
    public var precision: Cell
    public var recall: Cell
    public var f1: Cell

    static func build(_ results: RunResults, index: FoldIndex) -> [PerClassEntry] {
        var out: [PerClassEntry] = []
        for column in index.columns {
            let classes = results.heads.first { $0.shard.column == column }?.classes ?? []
            for head in Aggregate.tableHeads + [.output] {
                for model in [ModelKind.ft, .base] {
                    guard results.heads.contains(where: { $0.shard.column == column && $0.head == head && $0.model == model })
                    else { continue }
                    for name in classes {
                        func metric(_ pick: @escaping (HeadResult) -> [Double]) -> Cell {
                            index.cell(column: column, kinds: ["heads"], model: model, head: head, ddof: results.ddof) { r in
                                guard let k = r.classes.firstIndex(of: name) else { return nil }
                                let v = pick(r)
                                return k < v.count ? v[k] : nil
                            }
                        }
                        out.append(PerClassEntry(column: column, model: model, head: head, className: name,
                                                 precision: metric { $0.precision }, recall: metric { $0.recall },
                                                 f1: metric { $0.f1 }))
                    }
                }
            }
        }
        return out
    }
}

/// Beyond the paper: confusion matrices (rows = true class, columns = predicted) per fold and
/// summed over the folds present, for one head × model × column.
public struct ConfusionEntry: Codable, Equatable, Sendable {
    public var column: String
    public var model: ModelKind
    public var head: HeadKind
    public var classes: [String]
    public var summed: [[Int]]
    public var folds: [FoldConfusion]

    public struct FoldConfusion: Codable, Equatable, Sendable {
        public var fold: Int
        public var matrix: [[Int]]
    }

    static func build(_ results: RunResults, columns: [String]) -> [ConfusionEntry] {
        var out: [ConfusionEntry] = []
        for column in columns {
            for head in Aggregate.tableHeads + [.output] {
                for model in [ModelKind.ft, .base] {
                    let rs = results.heads.filter { $0.shard.column == column && $0.head == head && $0.model == model }
                        .sorted { $0.shard.fold < $1.shard.fold }
                    guard let first = rs.first else { continue }
                    let k = first.classes.count
                    var sum = Array(repeating: Array(repeating: 0, count: k), count: k)
                    var folds: [FoldConfusion] = []
                    var seen = Set<Int>()
                    for r in rs where !seen.contains(r.shard.fold) && r.classes == first.classes {
                        seen.insert(r.shard.fold)
                        folds.append(FoldConfusion(fold: r.shard.fold, matrix: r.confusion))
                        // Tolerate a malformed matrix: add what fits, never crash.
                        for i in 0..<min(k, r.confusion.count) {
                            for j in 0..<min(k, r.confusion[i].count) { sum[i][j] += r.confusion[i][j] }
                        }
                    }
                    out.append(ConfusionEntry(column: column, model: model, head: head, classes: first.classes,
                                              summed: sum, folds: folds))
                }
            }
        }
        return out
    }
}

/// Beyond the paper: LIME explanation scores per column × model, mean ± std over explained
/// images (stability = Jaccard over reruns, deletion AUC, pointing on synthetic ground truth,
/// lime's local R²). A score an image lacks is left out of its mean, never counted as zero.
public struct LimeEntry: Codable, Equatable, Sendable {
    public var column: String
    public var model: ModelKind
    public var images: Int
    public var stability: MeanStd?
    public var deletionAUC: MeanStd?
    public var pointing: MeanStd?
    public var localR2: MeanStd?
    public var probability: MeanStd?

    static func build(_ results: RunResults, columns: [String]) -> [LimeEntry] {
        var out: [LimeEntry] = []
        for column in columns {
            let images = results.explanations.filter { $0.shard.column == column }
            for model in [ModelKind.ft, .base] {
                let scores = images.flatMap { $0.scores.filter { $0.model == model } }
                guard !scores.isEmpty else { continue }
                let d = results.ddof
                out.append(LimeEntry(column: column, model: model, images: scores.count,
                                     stability: MeanStd(scores.compactMap(\.stability), ddof: d),
                                     deletionAUC: MeanStd(scores.compactMap(\.deletionAUC), ddof: d),
                                     pointing: MeanStd(scores.compactMap(\.pointing), ddof: d),
                                     localR2: MeanStd(scores.map(\.localR2), ddof: d),
                                     probability: MeanStd(scores.map(\.probability), ddof: d)))
            }
        }
        return out
    }
}

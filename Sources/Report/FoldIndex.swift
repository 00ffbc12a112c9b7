import Foundation
import Pipeline

/// Which folds each column should have and why a fold is missing. A column's folds are the union
/// of every fold any result, missing-task record or fold distribution mentions, so a fold whose
/// every task failed still shows up as a gap rather than silently shrinking n.
struct FoldIndex {
    let results: RunResults
    let columns: [String]
    let folds: [String: [Int]]
    private let datasets: [String: String]

    init(_ results: RunResults) {
        self.results = results
        var shards: [ShardKey] = results.heads.map(\.shard) + results.divergences.map(\.shard)
        shards += results.missing.compactMap(\.shard)
        shards += results.curves.map(\.shard) + results.explanations.map(\.shard)
        // Columns: the configured order, then any column only the results mention (sorted).
        var cols = results.columns
        for c in Set(shards.map(\.column)).subtracting(cols).sorted() { cols.append(c) }
        columns = cols
        var ds: [String: String] = [:]
        for s in shards { ds[s.column] = s.dataset }
        for c in cols where ds[c] == nil {
            // "dataset/variant": the dataset is everything before the last "/".
            if let slash = c.lastIndex(of: "/") { ds[c] = String(c[..<slash]) } else { ds[c] = c }
        }
        datasets = ds
        var f: [String: Set<Int>] = [:]
        for s in shards { f[s.column, default: []].insert(s.fold) }
        for c in cols {
            if let dist = results.foldDistributions.first(where: { $0.dataset == ds[c] }) {
                f[c, default: []].formUnion(0..<dist.counts.count)
            }
        }
        folds = Dictionary(uniqueKeysWithValues: cols.map { ($0, (f[$0] ?? []).sorted()) })
    }

    func dataset(_ column: String) -> String { datasets[column] ?? column }

    /// A cell from head results of one column; `value` picks the number (nil = not this cell).
    func cell(column: String, kinds: [String], model: ModelKind, head: HeadKind, ddof: Int,
              emptyFallback: String? = nil, value: (HeadResult) -> Double?) -> Cell {
        var present: [FoldValue] = []
        var seen = Set<Int>()
        for r in results.heads where r.shard.column == column && r.model == model && r.head == head {
            guard !seen.contains(r.shard.fold), let v = value(r) else { continue }
            seen.insert(r.shard.fold)
            present.append(FoldValue(fold: r.shard.fold, value: v))
        }
        let hadResults = results.heads.contains { $0.shard.column == column && $0.model == model && $0.head == head }
        let gaps = (folds[column] ?? []).filter { !seen.contains($0) }.map { fold -> FoldGap in
            let hasResult = results.heads.contains {
                $0.shard.column == column && $0.shard.fold == fold && $0.model == model && $0.head == head
            }
            if hasResult, let fb = emptyFallback { return FoldGap(fold: fold, reason: fb) }
            return FoldGap(fold: fold, reason: reason(column: column, fold: fold,
                                                      terms: [model.rawValue, head.rawValue]))
        }
        return Cell(values: present, expectedFolds: (folds[column] ?? []).count, gaps: gaps, ddof: ddof,
                    emptyReason: hadResults && present.isEmpty ? emptyFallback : nil)
    }

    /// A cell from the divergence results of one column.
    func divergenceCell(column: String, ddof: Int, value: (DivergenceResult) -> Double?) -> Cell {
        var present: [FoldValue] = []
        var seen = Set<Int>()
        for d in results.divergences where d.shard.column == column {
            guard !seen.contains(d.shard.fold), let v = value(d) else { continue }
            seen.insert(d.shard.fold)
            present.append(FoldValue(fold: d.shard.fold, value: v))
        }
        let gaps = (folds[column] ?? []).filter { !seen.contains($0) }.map { fold -> FoldGap in
            if results.divergences.contains(where: { $0.shard.column == column && $0.shard.fold == fold }) {
                return FoldGap(fold: fold, reason: "layer not in this fold's divergence result")
            }
            return FoldGap(fold: fold, reason: reason(column: column, fold: fold, terms: ["divergence"]))
        }
        return Cell(values: present, expectedFolds: (folds[column] ?? []).count, gaps: gaps, ddof: ddof)
    }

    /// Why a fold has no result: the missing-task records for that shard (those whose kind or
    /// detail mention `terms` first), then run-wide ones (no shard, e.g. a failed pretrain).
    func reason(column: String, fold: Int, terms: [String]) -> String {
        let forShard = results.missing.filter { $0.shard?.column == column && $0.shard?.fold == fold }
        let specific = forShard.filter { m in
            let text = (m.taskKind + " " + m.detail).lowercased()
            return terms.allSatisfy { text.contains($0.lowercased()) }
        }
        // Upstream tasks (fine-tune, baseline, pretrain, ...) explain every result of their shard;
        // a sibling head or an explain task does not.
        let siblings: Set<String> = ["heads", "divergence", "explain", "aggregate"]
        let upstream = forShard.filter { !siblings.contains($0.taskKind.lowercased()) }
        let global = results.missing.filter { $0.shard == nil }
        let chosen = !specific.isEmpty ? specific : (!upstream.isEmpty ? upstream : global)
        guard !chosen.isEmpty else { return "no result recorded" }
        return chosen.map { m in
            let what = m.detail.isEmpty ? m.taskKind : "\(m.taskKind) \(m.detail)"
            return "\(what): \(m.reason)"
        }.joined(separator: "; ")
    }

    /// Why a minority-class cell is empty although results exist.
    func minorityAbsentReason(column: String) -> String {
        let classes = results.heads.first { $0.shard.column == column }?.classes ?? []
        return "class '\(results.minorityClass)' is not among this column's classes [\(classes.joined(separator: ", "))]"
    }
}

import Foundation
import Pipeline

/// The paper's tables (and the extra ones) as `Grid`s, laid out as in Walker et al.:
/// Table 1 one block per head (SVM, KNN, Fully Connected) with rows FT/Base and the run's columns;
/// Table 2 minority precision | recall per head (KNN, SVM, FC), rows Base/FT per column;
/// Table 3 rows 1st Conv. … 2nd FC, KL then ED per column.
public enum TableGrids {
    public static func table1(_ a: Aggregate) -> Grid {
        var sections: [Grid.Section] = []
        var gaps: [String] = []
        let heads = Aggregate.tableHeads + (a.hasOutputLayer ? [HeadKind.output] : [])
        for head in heads {
            var rows: [[Grid.Item]] = []
            for model in [ModelKind.ft, .base] {
                var row = [Grid.label(model.rawValue)]
                for column in a.columns {
                    let cell = a.accuracy(column, model, head)
                    row.append(Grid.value(cell) { NumberFormat.percent($0) })
                    if let g = Grid.gapLine("\(NumberFormat.headLabel(head)) \(model.rawValue) \(column)", cell) { gaps.append(g) }
                }
                rows.append(row)
            }
            let title = head == .output ? "Output layer (the network's own classifier, beyond the paper)" : NumberFormat.headLabel(head)
            sections.append(Grid.Section(title: title, rows: rows))
        }
        return Grid(id: "table1", title: "Table 1: Test accuracy of the fine-tuned (FT) and baseline (Base) models",
                    notes: [a.stdNote],
                    header: [[Grid.Header(text: "", span: 1)] + a.columns.map { Grid.Header(text: $0, span: 1) }],
                    sections: sections, gaps: gaps)
    }

    /// The paper orders Table 2's heads KNN, SVM, FC.
    static let table2Heads: [HeadKind] = [.knn, .svm, .fc]

    public static func table2(_ a: Aggregate) -> Grid {
        var rows: [[Grid.Item]] = []
        var gaps: [String] = []
        for column in a.columns {
            for model in [ModelKind.base, .ft] {
                var row = [Grid.label(model.rawValue), Grid.label(column)]
                for metric in ["precision", "recall"] {
                    for head in table2Heads {
                        let cell = a.minority(column, model, head, metric)
                        row.append(Grid.value(cell) { NumberFormat.percent($0) })
                        if let g = Grid.gapLine("\(metric) \(NumberFormat.headShort(head)) \(model.rawValue) \(column)", cell) { gaps.append(g) }
                    }
                }
                rows.append(row)
            }
        }
        let heads = table2Heads.map { Grid.Header(text: NumberFormat.headShort($0), span: 1) }
        return Grid(id: "table2",
                    title: "Table 2: Precision and recall of the minority class '\(a.minorityClass)' (best per classifier and dataset in bold)",
                    notes: [a.stdNote],
                    header: [[Grid.Header(text: "", span: 2), Grid.Header(text: "Precision", span: 3), Grid.Header(text: "Recall", span: 3)],
                             [Grid.Header(text: "Model", span: 1), Grid.Header(text: "Column", span: 1)] + heads + heads],
                    sections: [Grid.Section(title: nil, rows: rows)], gaps: gaps)
    }

    public static func table3(_ a: Aggregate) -> Grid {
        var rows: [[Grid.Item]] = []
        // Each printed column (metric × dataset column) gets one number style from all its layers.
        var styles: [String: NumberStyle] = [:]
        for metric in ["kl", "euclidean"] {
            for column in a.columns {
                styles[metric + "|" + column] = NumberStyle.forColumn(a.layers.map { a.divergence(column, $0, metric) })
            }
        }
        for layer in a.layers {
            var row = [Grid.label(NumberFormat.layerLabel(layer))]
            for metric in ["kl", "euclidean"] {
                for column in a.columns {
                    let cell = a.divergence(column, layer, metric)
                    let style = styles[metric + "|" + column] ?? .fixed(NumberStyle.minimumDecimals)
                    row.append(Grid.value(cell) { NumberFormat.plain($0, style: style) })
                }
            }
            rows.append(row)
        }
        // A missing divergence result leaves every layer of that fold empty: say so once per column.
        var gaps: [String] = []
        for column in a.columns {
            var places: [String: [String]] = [:]
            var order: [String] = []
            for metric in ["kl", "euclidean"] {
                for layer in a.layers {
                    let place = "\(metric == "kl" ? "KL" : "ED") \(NumberFormat.layerLabel(layer))"
                    guard let line = Grid.gapLine(column, a.divergence(column, layer, metric)) else { continue }
                    if places[line] == nil { order.append(line) }
                    places[line, default: []].append(place)
                }
            }
            for line in order {
                let p = places[line] ?? []
                let which = p.count == 2 * a.layers.count ? "all layers" : p.joined(separator: ", ")
                gaps.append(line.replacingOccurrences(of: column + ":", with: "\(column) (\(which)):", options: .anchored))
            }
        }
        let n = a.columns.count
        let cols = a.columns.map { Grid.Header(text: $0, span: 1) }
        return Grid(id: "table3",
                    title: ["Table 3: KL divergence D_KL(FT||Base) and Euclidean distance D_ED per layer (largest per column in bold).",
                            a.weightSignificance.conventions.caption].filter { !$0.isEmpty }.joined(separator: " "),
                    notes: [a.stdNote],
                    header: [[Grid.Header(text: "", span: 1), Grid.Header(text: "D_KL(FT||Base)", span: n), Grid.Header(text: "D_ED", span: n)],
                             [Grid.Header(text: "Layer", span: 1)] + cols + cols],
                    sections: [Grid.Section(title: nil, rows: rows)], gaps: gaps)
    }

    /// FT vs Base paired t-test on per-fold accuracy, one row per column × head.
    public static func paired(_ a: Aggregate) -> Grid {
        var rows: [[Grid.Item]] = []
        for e in a.paired where e.head != .output || a.hasOutputLayer {
            let t = e.test
            func plainItem(_ s: String, note: String? = nil) -> Grid.Item { Grid.Item(text: s, bold: false, note: note, isLabel: false) }
            var diff = t.meanDifference.map { ($0 >= 0 ? "+" : "") + NumberFormat.fixed($0 * 100, 2) + " pp" } ?? NumberFormat.dash
            for m in [ModelKind.base, .ft] where ChanceLevel.atChance(a.chance, column: e.column, model: m, head: e.head) { diff += " (\(m.rawValue) at chance)" }
            var signs = "\(t.ftBetter) of \(t.n)"
            if t.ties > 0 { signs += " (\(t.ties) tied)" }
            rows.append([Grid.label(e.column), Grid.label(NumberFormat.headShort(e.head)),
                         plainItem("\(t.n)"), plainItem(diff),
                         plainItem(t.t.map { NumberFormat.fixed($0, 3) } ?? NumberFormat.dash, note: t.note),
                         plainItem(t.df.map(String.init) ?? NumberFormat.dash),
                         plainItem(t.p.map(NumberFormat.pValue) ?? NumberFormat.dash, note: t.note),
                         plainItem(signs)])
        }
        let names = ["Column", "Head", "n", "mean FT−Base", "t", "df", "p (two-sided)", "FT > Base"]
        return Grid(id: "paired", title: "FT vs Base: paired t-test on per-fold test accuracy",
                    notes: [pairedCaveat(a)] + ChanceLevel.pairedNotes(a.chance, heads: a.hasOutputLayer ? Aggregate.tableHeads + [.output] : Aggregate.tableHeads),
                    header: [names.map { Grid.Header(text: $0, span: 1) }],
                    sections: [Grid.Section(title: nil, rows: rows)],
                    gaps: a.paired.filter { $0.head != .output || a.hasOutputLayer }
                        .compactMap { e in e.test.note.map { "\(e.column) \(NumberFormat.headShort(e.head)): \($0)" } })
    }

    /// The plain sentence on how little a few folds can show.
    public static func pairedCaveat(_ a: Aggregate) -> String {
        let n = a.paired.map(\.test.n).max() ?? 0
        guard n >= 2 else {
            return "Fewer than 2 folds have both FT and Base results, so no test is possible; run more folds."
        }
        let crit = NumberFormat.fixed(StudentT.criticalValue(alpha: 0.05, df: Double(n - 1)), 2)
        guard n < 10 else {
            return "With \(n) folds (df = \(n - 1)) p < 0.05 needs |t| > \(crit). The folds share training data, so the "
                + "p-values are optimistic; repeated cross-validation (repeats: N in the experiment config) adds a table with the "
                + "corrected resampled t-test, a fairer picture."
        }
        return "With only \(n) folds (df = \(n - 1)) a paired t-test can show very little: p < 0.05 needs |t| > \(crit), "
            + "i.e. a large and very consistent difference, and because the folds share training data the p-values are optimistic. "
            + "A non-significant p here is not evidence of no difference. For significance, run more folds or repeated "
            + "cross-validation (repeats: N in the experiment config; the report then adds the corrected resampled t-test over "
            + "repeats × folds); the sign count says in how many folds FT beat Base."
    }

    /// LIME explanation scores per column × model.
    public static func lime(_ a: Aggregate) -> Grid {
        func ms(_ m: MeanStd?) -> Grid.Item {
            guard let m else { return Grid.Item(text: NumberFormat.dash, bold: false, note: "no image has this score", isLabel: false) }
            var s = NumberFormat.fixed(m.mean, 3)
            if let sd = m.std { s += "±" + NumberFormat.fixed(sd, 3) }
            return Grid.Item(text: s + " (n=\(m.n))", bold: false, note: nil, isLabel: false)
        }
        let rows = a.lime.map { e in
            [Grid.label(e.column), Grid.label(e.model.rawValue),
             Grid.Item(text: "\(e.images)", bold: false, note: nil, isLabel: false),
             ms(e.stability), ms(e.deletionAUC), ms(e.pointing), ms(e.localR2)]
        }
        let names = ["Column", "Model", "Images", "Stability (Jaccard, ↑)", "Deletion AUC (↓)", "Pointing (↑)", "Local R²"]
        return Grid(id: "lime", title: "LIME explanation scores",
                    notes: ["mean ± std (ddof=\(a.ddof)) over explained images; a score an image lacks is left out, not counted as zero."],
                    header: [names.map { Grid.Header(text: $0, span: 1) }],
                    sections: [Grid.Section(title: nil, rows: rows)], gaps: [])
    }

    /// Per-class precision / recall / F1 for one column.
    public static func perClass(_ a: Aggregate, column: String) -> Grid {
        let entries = a.perClass.filter { $0.column == column }
        let rows = entries.map { e in
            [Grid.label(e.model.rawValue), Grid.label(NumberFormat.headShort(e.head)), Grid.label(e.className),
             Grid.value(e.precision) { NumberFormat.percent($0) }, Grid.value(e.recall) { NumberFormat.percent($0) },
             Grid.value(e.f1) { NumberFormat.percent($0) }]
        }
        let names = ["Model", "Head", "Class", "Precision", "Recall", "F1"]
        return Grid(id: "perclass", title: "Per-class precision, recall and F1: \(column)", notes: [a.stdNote],
                    header: [names.map { Grid.Header(text: $0, span: 1) }],
                    sections: [Grid.Section(title: nil, rows: rows)], gaps: [])
    }
}

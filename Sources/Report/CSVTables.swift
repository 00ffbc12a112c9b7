import Foundation
import Pipeline

/// Tidy CSV (RFC 4180 quoting): one row per fold × metric, for `pandas.read_csv`. Folds are
/// 1-based as in the paper. A missing fold is a row with an empty value (NaN in pandas) and the
/// reason in `note`, never a zero.
public enum CSVTables {
    public static let columns = ["table", "dataset", "variant", "fold", "model", "head", "class", "layer", "metric", "value", "note"]

    struct Row {
        var table: String, column: String, fold: Int, model: String, head: String
        var className: String, layer: String, metric: String, value: Double?, note: String
    }

    public static func table1(_ a: Aggregate) -> String {
        var rows: [Row] = []
        // The output layer only when some fold has it (otherwise every row would be a gap).
        for e in a.table1 where e.head != .output || a.hasOutputLayer {
            rows += foldRows(e.cell, table: "table1", column: e.column, model: e.model.rawValue, head: e.head.rawValue,
                             className: "", layer: "", metric: "accuracy")
        }
        return render(rows, a)
    }

    public static func table2(_ a: Aggregate) -> String {
        var rows: [Row] = []
        for e in a.table2 {
            rows += foldRows(e.cell, table: "table2", column: e.column, model: e.model.rawValue, head: e.head.rawValue,
                             className: a.minorityClass, layer: "", metric: e.metric)
        }
        return render(rows, a)
    }

    public static func table3(_ a: Aggregate) -> String {
        var rows: [Row] = []
        for e in a.table3 {
            rows += foldRows(e.cell, table: "table3", column: e.column, model: "", head: "", className: "",
                             layer: e.layer, metric: e.metric)
        }
        return render(rows, a)
    }

    /// Per-class precision/recall/F1 of every head, model and column.
    public static func perClass(_ a: Aggregate) -> String {
        var rows: [Row] = []
        for e in a.perClass where e.head != .output || a.hasOutputLayer {
            for (metric, cell) in [("precision", e.precision), ("recall", e.recall), ("f1", e.f1)] {
                rows += foldRows(cell, table: "perclass", column: e.column, model: e.model.rawValue, head: e.head.rawValue,
                                 className: e.className, layer: "", metric: metric)
            }
        }
        return render(rows, a)
    }

    static func foldRows(_ cell: Cell, table: String, column: String, model: String, head: String,
                         className: String, layer: String, metric: String) -> [Row] {
        var rows = cell.values.map {
            Row(table: table, column: column, fold: $0.fold, model: model, head: head, className: className,
                layer: layer, metric: metric, value: $0.value, note: "")
        }
        rows += cell.gaps.map {
            Row(table: table, column: column, fold: $0.fold, model: model, head: head, className: className,
                layer: layer, metric: metric, value: nil, note: "missing: \($0.reason)")
        }
        return rows.sorted { $0.fold < $1.fold }
    }

    static func render(_ rows: [Row], _ a: Aggregate) -> String {
        var out = columns.joined(separator: ",") + "\n"
        for r in rows {
            let (dataset, variant) = a.split(r.column)
            // Swift's description is the shortest text that round-trips (Python's repr): "0.8".
            let value = r.value.map { v in v.isFinite ? "\(v)" : (v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf")) } ?? ""
            let fields = [r.table, dataset, variant, String(r.fold + 1), r.model, r.head, r.className, r.layer, r.metric, value, r.note]
            out += fields.map(quote).joined(separator: ",") + "\n"
        }
        return out
    }

    static func quote(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension CSVTables {
    /// The paired tests, one row per column × head (not per fold: a test is over folds).
    public static func paired(_ a: Aggregate) -> String {
        var out = "dataset,variant,head,n,mean_difference,t,df,p_two_sided,ft_better,base_better,ties,note\n"
        for e in a.paired where e.head != .output || a.hasOutputLayer {
            let (d, v) = a.split(e.column)
            let t = e.test
            func opt<T>(_ x: T?) -> String { x.map { "\($0)" } ?? "" }
            var fields: [String] = [d, v, e.head.rawValue, String(t.n), opt(t.meanDifference)]
            fields += [opt(t.t), opt(t.df), opt(t.p), String(t.ftBetter), String(t.baseBetter), String(t.ties), t.note ?? ""]
            out += fields.map(quote).joined(separator: ",") + "\n"
        }
        return out
    }
}

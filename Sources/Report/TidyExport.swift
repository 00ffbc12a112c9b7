import Foundation
import Pipeline

/// `seafold export`: a run's per-fold numbers as one tidy long-format CSV (one row per run ×
/// dataset × variant × fold × repeat × model × head × metric, the layout `pandas.read_csv` and
/// R's `read.csv` take in one line) and every test image's prediction with class names.
/// Folds are 1-based as in the tables; RFC 4180 quoting. A fold without a result has no row
/// (the report's tables say why it is missing); nothing is filled with zeros.
public enum TidyExport {
    public static let header = ["run", "dataset", "variant", "fold", "repeat", "model", "head", "metric", "value"]
    public static let predictionHeader = ["run", "dataset", "variant", "fold", "repeat", "model", "head",
                                          "image", "image_index", "true_class", "predicted_class", "correct"]

    /// The repeat of a shard in repeated cross-validation, 1-based like the fold column.
    static func repeatIndex(_ shard: ShardKey) -> Int { shard.repeat + 1 }

    /// Metric names: "accuracy"; "precision:CLASS", "recall:CLASS", "f1:CLASS" per class (the
    /// class name after the colon); "kl:LAYER" and "euclidean:LAYER" per paper layer (model
    /// and head empty: a divergence compares FT with Base).
    public static func metrics(_ r: RunResults, run: String) -> String {
        var out = header.joined(separator: ",") + "\n"
        func row(_ shard: ShardKey, _ model: String, _ head: String, _ metric: String, _ value: Double) {
            let fields = [run, shard.dataset, shard.variant.rawValue, String(shard.fold + 1), String(repeatIndex(shard)),
                          model, head, metric, number(value)]
            out += fields.map(CSVTables.quote).joined(separator: ",") + "\n"
        }
        for h in r.heads.sorted(by: { ($0.shard, $0.model.rawValue, $0.head.rawValue) < ($1.shard, $1.model.rawValue, $1.head.rawValue) }) {
            row(h.shard, h.model.rawValue, h.head.rawValue, "accuracy", h.accuracy)
            for (c, name) in h.classes.enumerated() {
                if c < h.precision.count { row(h.shard, h.model.rawValue, h.head.rawValue, "precision:\(name)", h.precision[c]) }
                if c < h.recall.count { row(h.shard, h.model.rawValue, h.head.rawValue, "recall:\(name)", h.recall[c]) }
                if c < h.f1.count { row(h.shard, h.model.rawValue, h.head.rawValue, "f1:\(name)", h.f1[c]) }
            }
        }
        for d in r.divergences.sorted(by: { $0.shard < $1.shard }) {
            for l in d.layers {
                row(d.shard, "", "", "kl:\(l.layer)", l.kl)
                row(d.shard, "", "", "euclidean:\(l.layer)", l.euclidean)
            }
        }
        return out
    }

    /// One test image of a shard: its index in the dataset and its source file.
    public struct ImageRef: Equatable, Sendable {
        public var index: Int
        public var file: String
        public init(index: Int, file: String) { self.index = index; self.file = file }
    }

    /// One row per head × test image. `images[shard]` lists the shard's test images in test
    /// order; a shard without it (or with a different count) leaves `image` and `image_index` empty.
    public static func predictions(_ r: RunResults, run: String, images: [ShardKey: [ImageRef]]) -> String {
        var out = predictionHeader.joined(separator: ",") + "\n"
        for h in r.heads.sorted(by: { ($0.shard, $0.model.rawValue, $0.head.rawValue) < ($1.shard, $1.model.rawValue, $1.head.rawValue) }) {
            let refs = images[h.shard].flatMap { $0.count == h.labels.count ? $0 : nil }
            func name(_ c: Int) -> String { c >= 0 && c < h.classes.count ? h.classes[c] : "class \(c)" }
            for (i, (label, predicted)) in zip(h.labels, h.predictions).enumerated() {
                let fields = [run, h.shard.dataset, h.shard.variant.rawValue, String(h.shard.fold + 1), String(repeatIndex(h.shard)),
                              h.model.rawValue, h.head.rawValue, refs?[i].file ?? "", refs.map { String($0[i].index) } ?? "",
                              name(label), name(predicted), label == predicted ? "true" : "false"]
                out += fields.map(CSVTables.quote).joined(separator: ",") + "\n"
            }
        }
        return out
    }

    /// The shortest text that reads back as the same double (as in the table CSVs).
    static func number(_ v: Double) -> String {
        v.isFinite ? "\(v)" : (v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf"))
    }
}

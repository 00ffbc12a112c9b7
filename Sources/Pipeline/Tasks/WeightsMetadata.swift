import Datasets
import Foundation
import SeafoldCore

/// The model description seafold stores in a weights file's safetensors `__metadata__`
/// (string → string, huggingface/safetensors), so `features` and `predict` use the input size,
/// class names and preprocessing the weights were trained with instead of guessing.
///
/// Keys (all optional on reading; torchvision exports have none):
/// - `seafold.input_size`: square input side in pixels, e.g. "64"
/// - `seafold.class_names`: JSON array of strings, in label order (the output rows)
/// - `seafold.width_multiplier`, `seafold.hidden_width`: the scaled AlexNet's shape
/// - `seafold.preprocessing`: JSON object: `resize` (antialiased bilinear to S × S), `grey`
///   (replicated to 3 channels), `mean` / `std` (per channel, applied after scaling to [0, 1]),
///   `float_scaling` (how float images were mapped to [0, 1]: "percentile", "percentile:LO:HI"
///   or "none", as `FloatScaling` parses it)
public struct WeightsMetadata: Equatable, Sendable {
    public var inputSize: Int?
    public var classNames: [String]?
    public var widthMultiplier: Double?
    public var hiddenWidth: Int?
    public var mean: [Float]?
    public var std: [Float]?
    public var floatScaling: String?

    public init(inputSize: Int? = nil, classNames: [String]? = nil, widthMultiplier: Double? = nil, hiddenWidth: Int? = nil,
                mean: [Float]? = nil, std: [Float]? = nil, floatScaling: String? = nil) {
        self.inputSize = inputSize; self.classNames = classNames; self.widthMultiplier = widthMultiplier
        self.hiddenWidth = hiddenWidth; self.mean = mean; self.std = std; self.floatScaling = floatScaling
    }

    /// What a weights file trained by seafold on `network` carries (the preprocessing is the
    /// dataset packs' own: `Preprocessor`'s ImageNet mean/std).
    public init(network: ModelConfig, classNames: [String]?, floatScaling: String?) {
        self.init(inputSize: network.inputSize, classNames: classNames, widthMultiplier: network.widthMultiplier,
                  hiddenWidth: network.hiddenWidth, mean: Preprocessor.imagenetMean, std: Preprocessor.imagenetStd,
                  floatScaling: floatScaling)
    }

    public static let inputSizeKey = "seafold.input_size"
    public static let classNamesKey = "seafold.class_names"
    public static let widthKey = "seafold.width_multiplier"
    public static let hiddenKey = "seafold.hidden_width"
    public static let preprocessingKey = "seafold.preprocessing"

    public var isEmpty: Bool { self == WeightsMetadata() }

    /// The `__metadata__` entries (merged into a task's own keys by the writer).
    public var entries: [String: String] {
        var m: [String: String] = [:]
        if let inputSize { m[Self.inputSizeKey] = String(inputSize) }
        if let classNames { m[Self.classNamesKey] = Self.json(classNames) }
        if let widthMultiplier { m[Self.widthKey] = String(widthMultiplier) }
        if let hiddenWidth { m[Self.hiddenKey] = String(hiddenWidth) }
        if mean != nil || std != nil || floatScaling != nil {
            var p: [String: Any] = ["resize": "bilinear, antialiased, to input_size × input_size", "grey": "replicated to 3 channels"]
            // Through the Float's shortest text, so 0.485 is written as 0.485, not 0.48500001430511475.
            if let mean { p["mean"] = mean.map { Double("\($0)")! } }
            if let std { p["std"] = std.map { Double("\($0)")! } }
            if let floatScaling { p["float_scaling"] = floatScaling }
            m[Self.preprocessingKey] = Self.json(p)
        }
        return m
    }

    /// Reads the keys above from a file's metadata; a malformed value names the file and key.
    public init(metadata m: [String: String], source: String) throws {
        self.init()
        func bad(_ key: String, _ why: String) -> SeafoldError {
            SeafoldError.badInput(path: source, reason: "metadata '\(key)' \(why); fix or remove the key (e.g. re-save the weights)")
        }
        if let s = m[Self.inputSizeKey] {
            guard let v = Int(s), v > 0 else { throw bad(Self.inputSizeKey, "is '\(s)', not a positive integer") }
            inputSize = v
        }
        if let s = m[Self.classNamesKey] {
            guard let a = (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String] else {
                throw bad(Self.classNamesKey, "is not a JSON array of strings")
            }
            classNames = a
        }
        if let s = m[Self.widthKey] {
            guard let v = Double(s), v > 0, v.isFinite else { throw bad(Self.widthKey, "is '\(s)', not a positive number") }
            widthMultiplier = v
        }
        if let s = m[Self.hiddenKey] {
            guard let v = Int(s), v > 0 else { throw bad(Self.hiddenKey, "is '\(s)', not a positive integer") }
            hiddenWidth = v
        }
        if let s = m[Self.preprocessingKey] {
            guard let p = (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String: Any] else {
                throw bad(Self.preprocessingKey, "is not a JSON object")
            }
            func triple(_ k: String) throws -> [Float]? {
                guard let v = p[k] else { return nil }
                let a = (v as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } ?? []
                guard a.count == 3, (v as? [Any])?.count == 3, a.allSatisfy({ $0.isFinite }) else {
                    throw bad(Self.preprocessingKey, "has '\(k)' that is not three numbers")
                }
                return a.map(Float.init)
            }
            mean = try triple("mean")
            std = try triple("std")
            if let s = std, s.contains(where: { $0 <= 0 }) { throw bad(Self.preprocessingKey, "has a 'std' entry ≤ 0") }
            if let f = p["float_scaling"] {
                guard let t = f as? String, (try? FloatScaling(parsing: t)) != nil else {
                    throw bad(Self.preprocessingKey, "has a 'float_scaling' that is not 'none', 'percentile' or 'percentile:LO:HI'")
                }
                floatScaling = t
            }
        }
    }

    /// Compact JSON with sorted keys, so the same model always writes the same bytes.
    static func json(_ value: Any) -> String {
        let d = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("null".utf8)
        return String(decoding: d, as: UTF8.self)
    }
}

extension WeightsMetadata {
    /// The full `__metadata__` of a fine-tune's weights or a baseline's output layer: the task's
    /// own keys (kept for older readers) plus the model description. `DiskBudget` sizes the
    /// files with the same call.
    static func taskMetadata(_ kind: TaskKind, shard: ShardKey, classes: [String], network: ModelConfig?, floatScaling: String?) -> [String: String] {
        var m = ["task": kind.rawValue, "shard": shard.description, "classes": classes.joined(separator: ",")]
        if let network {
            for (k, v) in WeightsMetadata(network: network, classNames: classes, floatScaling: floatScaling).entries { m[k] = v }
        }
        return m
    }
}

extension WeightsMetadata {
    /// The `__metadata__` of pretrained weights: the source task's keys plus the network shape
    /// and preprocessing (no class names: the source task's classes are not the dataset's).
    static func pretrainMetadata(source: String, classes: Int?, network: ModelConfig) -> [String: String] {
        var m = ["task": "pretrain", "source": source]
        if let classes { m["classes"] = String(classes) }
        for (k, v) in WeightsMetadata(network: network, classNames: nil, floatScaling: nil).entries { m[k] = v }
        return m
    }
}

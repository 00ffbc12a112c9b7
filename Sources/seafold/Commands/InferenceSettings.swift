import Datasets
import Engine
import Foundation
import Pipeline
import SeafoldCore
import Terminal

/// What `features` and `predict` feed the network: the weights' own model description
/// (`WeightsMetadata`, written by seafold's tasks) with any explicit flag taking precedence;
/// weights without it (e.g. a torchvision export) get torchvision's defaults, said on stderr.
struct InferenceSettings {
    var inputSize: Int
    var floatScaling: FloatScaling
    var mean: [Float]
    var std: [Float]
    var metadata: WeightsMetadata

    init(weights: String, inputSize flagSize: Int?, floatScaling flagScaling: String?) throws {
        let url = URL(fileURLWithPath: weights)
        // The header only (the file is mapped, the tensors are not copied): AlexNet(weightsFile:) reads them.
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw SeafoldError.io(path: url.path, reason: "cannot read safetensors file: \(error.localizedDescription)")
        }
        let meta = try WeightsMetadata(metadata: try SafetensorsLayout.parse(data, source: url.path).metadata, source: url.path)
        metadata = meta
        if let flagSize {
            inputSize = flagSize
            if let m = meta.inputSize, m != flagSize {
                Console.warn("--input-size \(flagSize) overrides the \(m) px the weights were trained at (\(url.lastPathComponent))")
            }
        } else if let m = meta.inputSize {
            inputSize = m
            Console.info("input size \(m) px (from the weights' metadata)")
        } else {
            inputSize = 224
            Console.info("\(url.lastPathComponent) has no seafold metadata (e.g. a torchvision export): using 224 px, percentile float scaling and ImageNet mean/std; pass --input-size to change")
        }
        guard inputSize >= AlexNetConfig.minimumInputSize else {
            throw SeafoldError.badInput(path: url.path, reason: "metadata '\(WeightsMetadata.inputSizeKey)' is \(inputSize); the network needs at least \(AlexNetConfig.minimumInputSize) px (pass --input-size)")
        }
        floatScaling = try FloatScaling(parsing: flagScaling ?? meta.floatScaling ?? "percentile")
        mean = meta.mean ?? Preprocessor.imagenetMean
        std = meta.std ?? Preprocessor.imagenetStd
    }

    /// The output rows' names: the weights' class names, or class0… when they carry none (or
    /// a list that does not match the output layer, which is reported).
    func classNames(count: Int) -> [String] {
        if let names = metadata.classNames {
            if names.count == count { return names }
            Console.warn("the weights name \(names.count) classes but the output layer has \(count); using class0…class\(count - 1)")
        } else {
            Console.info("the weights carry no class names; the CSV uses class0…class\(count - 1)")
        }
        return (0..<count).map { "class\($0)" }
    }
}

/// `predict`'s CSV: `file,predicted,p_<class>...` — one row per image in the .npy's row order,
/// the predicted class is the arg-max (first on ties, like `numpy.argmax`), probabilities in
/// Swift's shortest round-trip form. Fields are quoted per RFC 4180 when needed.
enum PredictionCSV {
    static func field(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func text(rows: [Float], cols: Int, names: [String], classes: [String]) -> String {
        var out = (["file", "predicted"] + classes.map { "p_" + $0 }).map(field).joined(separator: ",") + "\n"
        for (i, name) in names.enumerated() {
            let p = rows[(i * cols)..<((i + 1) * cols)]
            var best = p.startIndex
            for j in p.indices where p[j] > p[best] { best = j }
            out += ([field(name), field(classes[best - p.startIndex])] + p.map { "\($0)" }).joined(separator: ",") + "\n"
        }
        return out
    }

    static func write(rows: [Float], cols: Int, names: [String], classes: [String], to url: URL) throws {
        do { try text(rows: rows, cols: cols, names: names, classes: classes).write(to: url, atomically: true, encoding: .utf8) } catch {
            throw SeafoldError.io(path: url.path, reason: "cannot write the predictions CSV: \(error.localizedDescription)")
        }
    }
}

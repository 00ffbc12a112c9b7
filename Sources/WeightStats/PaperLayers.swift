import SeafoldCore

/// One of the paper's compared layers and its torchvision AlexNet parameter prefix.
public struct PaperLayer: Equatable, Sendable {
    /// "conv1" … "conv5", "fc1", "fc2".
    public let name: String
    /// torchvision module path, e.g. "features.0".
    public let prefix: String

    /// `[prefix.weight]`, plus `prefix.bias` when biases join the weights.
    public func parameterKeys(includeBiases: Bool) -> [String] {
        includeBiases ? ["\(prefix).weight", "\(prefix).bias"] : ["\(prefix).weight"]
    }
}

/// The layers of Table 3: the five convolutions (features.0/3/6/8/10) and the first two fully
/// connected layers (classifier.1/4). The output layer (classifier.6) is excluded: it is
/// replaced per task, so it has no pretrained counterpart.
public enum PaperLayers {
    public static let all: [PaperLayer] = [
        PaperLayer(name: "conv1", prefix: "features.0"),
        PaperLayer(name: "conv2", prefix: "features.3"),
        PaperLayer(name: "conv3", prefix: "features.6"),
        PaperLayer(name: "conv4", prefix: "features.8"),
        PaperLayer(name: "conv5", prefix: "features.10"),
        PaperLayer(name: "fc1", prefix: "classifier.1"),
        PaperLayer(name: "fc2", prefix: "classifier.4"),
    ]

    /// (layer name, torchvision keys) in table order.
    public static func mapping(includeBiases: Bool) -> [(layer: String, keys: [String])] {
        all.map { ($0.name, $0.parameterKeys(includeBiases: includeBiases)) }
    }
}

/// One row of Table 3.
public struct LayerDivergence: Codable, Equatable, Sendable {
    public var layer: String
    public var parameters: [String]
    public var kl: Double
    public var euclidean: Double
    /// Number of compared values (weights, plus biases when included); ED/√count is the RMS change.
    public var count: Int
}

/// Table 3 for one fine-tuned model: per paper layer, the parameters (weight, and bias when
/// `includeBiases`) flattened and concatenated in key order, then `WeightComparison.compare`.
public enum LayerComparison {
    public static func compare(fineTuned: [String: [Float]], pretrained: [String: [Float]],
                               bins: Int = WeightComparison.defaultBins,
                               epsilon: Double = KLDivergence.defaultEpsilon,
                               epsilonOn: EpsilonPlacement = .probabilities,
                               includeBiases: Bool = true,
                               layers: [PaperLayer] = PaperLayers.all) throws -> [LayerDivergence] {
        try layers.map { layer in
            let keys = layer.parameterKeys(includeBiases: includeBiases)
            let (ft, base) = try values(layer, fineTuned: fineTuned, pretrained: pretrained, includeBiases: includeBiases)
            let r = try WeightComparison.compare(fineTuned: ft, pretrained: base, bins: bins, epsilon: epsilon, epsilonOn: epsilonOn)
            return LayerDivergence(layer: layer.name, parameters: keys, kl: r.kl, euclidean: r.euclidean, count: ft.count)
        }
    }

    /// The layer's fine-tuned and pretrained parameters, flattened and concatenated in key order.
    public static func values(_ layer: PaperLayer, fineTuned: [String: [Float]], pretrained: [String: [Float]],
                              includeBiases: Bool) throws -> (fineTuned: [Float], pretrained: [Float]) {
        let keys = layer.parameterKeys(includeBiases: includeBiases)
        var ft: [Float] = [], base: [Float] = []
        for key in keys {
            guard let a = fineTuned[key] else {
                throw SeafoldError.mismatch(what: "fine-tuned weights", expected: "parameter '\(key)' (\(layer.name))", found: "no such key")
            }
            guard let b = pretrained[key] else {
                throw SeafoldError.mismatch(what: "pretrained weights", expected: "parameter '\(key)' (\(layer.name))", found: "no such key")
            }
            guard a.count == b.count else {
                throw SeafoldError.mismatch(what: "parameter '\(key)' size (fine-tuned vs pretrained)",
                                            expected: "\(b.count) values", found: "\(a.count) values")
            }
            ft += a; base += b
        }
        return (ft, base)
    }
}

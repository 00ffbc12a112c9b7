import Foundation
import SeafoldCore

/// Loading AlexNet weights from a safetensors file (torchvision state-dict key names): the one
/// loader that tasks, `features` / `predict` and `explain` share, so a file is checked the same
/// way everywhere and every error names the file.
extension AlexNet {
    /// The network a weights file describes: classes, width multiplier and hidden width read off
    /// the tensor shapes (features.0's output channels / 64, classifier.1's and classifier.6's
    /// rows), the input size given (no shape carries it), then the weights loaded strictly.
    public convenience init(weightsFile url: URL, inputSize: Int, options: EngineOptions = .default) throws {
        let (tensors, _) = try Safetensors.read(from: url)
        guard let c1 = tensors["features.0.weight"], let fc1 = tensors["classifier.1.weight"], let out = tensors["classifier.6.weight"],
              c1.shape.count == 4, fc1.shape.count == 2, out.shape.count == 2 else {
            throw SeafoldError.badInput(path: url.path, reason: "not AlexNet weights: features.0.weight, classifier.1.weight and classifier.6.weight are required (torchvision key names)")
        }
        let config = AlexNetConfig(numClasses: out.shape[0], widthMultiplier: Double(c1.shape[0]) / 64, inputSize: inputSize,
                                   hiddenWidth: fc1.shape[0], dropout: 0.5)
        try self.init(config: config, seed: 0, options: options)
        try load(tensors, from: url, keepingOwn: nil, describedAs: "weights")
    }

    /// Loads the weights in `url` strictly (PyTorch's `load_state_dict`: every key present, no
    /// other key, shapes equal). With `prefix`, tensors whose keys start with it are not taken
    /// from the file but kept as they are here (e.g. "classifier.6." keeps a fresh output layer
    /// over pretrained weights); the file must then hold every other key. `what` names the
    /// weights in errors ("pretrained weights"). Nothing changes unless the whole file fits.
    public func loadWeights(from url: URL, keepingOwn prefix: String? = nil, describedAs what: String = "weights") throws {
        let (tensors, _) = try Safetensors.read(from: url)
        try load(tensors, from: url, keepingOwn: prefix, describedAs: what)
    }

    private func load(_ tensors: [String: Tensor], from url: URL, keepingOwn prefix: String?, describedAs what: String) throws {
        var body = tensors
        if let prefix {
            body = tensors.filter { !$0.key.hasPrefix(prefix) }
            for k in parameterKeys where !k.hasPrefix(prefix) && body[k] == nil {
                throw SeafoldError.badInput(path: url.path, reason: "\(what) lack '\(k)' (torchvision AlexNet layout expected)")
            }
            for p in parameters where p.key.hasPrefix(prefix) { body[p.key] = p.tensor }
        }
        do { try load(stateDict: body, strict: true) } catch {
            throw SeafoldError.badInput(path: url.path, reason: "\(what) do not fit the model: \(error)")
        }
    }
}

import SeafoldCore

/// One optimisation step at a time for an `AlexNet`: training-mode forward (dropout from the
/// caller's RNG), mean softmax cross-entropy, backward, optimizer update.
///
/// Freezing follows PyTorch's `requires_grad_(False)`: only the parameter keys in `trainable`
/// (nil = all) get gradients and updates; frozen layers compute no weight gradients, and
/// nothing at all is computed below the lowest trainable layer.
public final class Trainer {
    public let model: AlexNet
    public let optimizer: Optimizer
    public let trainable: Set<String>?

    /// Throws when `trainable` names a key the model does not have.
    public init(model: AlexNet, optimizer: Optimizer, trainable: Set<String>? = nil) throws {
        self.model = model
        self.optimizer = optimizer
        self.trainable = trainable
        if let t = trainable {
            let keys = Set(model.parameterKeys)
            if let bad = t.subtracting(keys).sorted().first {
                throw SeafoldError.config(key: "trainable", reason: "'\(bad)' is not a parameter of this AlexNet (keys are \(model.parameterKeys.joined(separator: ", ")))")
            }
        }
        applyFreezing()
    }

    /// Sets `requiresGrad` from `trainable` (again after e.g. `replaceOutputLayer`).
    func applyFreezing() {
        for p in model.parameters { p.requiresGrad = trainable?.contains(p.key) ?? true }
    }

    /// One training step on a batch; returns the batch's mean loss (before the update) and
    /// the number of correct arg-max predictions. Throws on bad shapes/labels and on a
    /// non-finite loss (the weights are then left unchanged).
    @discardableResult
    public func step(input: Tensor, labels: [Int], rng: inout SeededGenerator) throws -> (loss: Float, correct: Int) {
        applyFreezing()
        let r = try model.trainForwardBackward(input, labels: labels, training: true, rng: &rng)
        guard r.loss.isFinite else { throw SeafoldError.diverged(reason: "loss is \(r.loss)") }
        optimizer.step(model.parameters)
        return r
    }

    /// Mean loss and number correct in eval mode (no dropout, no update).
    public func evaluate(input: Tensor, labels: [Int]) throws -> (loss: Float, correct: Int) {
        var rng = SeededGenerator(seed: 0)
        let logits = try model.forward(input, training: false, rng: &rng)
        guard labels.count == logits.shape[0] else {
            throw SeafoldError.mismatch(what: "labels for a batch", expected: "\(logits.shape[0]) labels", found: "\(labels.count)")
        }
        let c = model.config.numClasses
        if let bad = labels.first(where: { $0 < 0 || $0 >= c }) {
            throw SeafoldError.mismatch(what: "label", expected: "0..<\(c)", found: "\(bad)")
        }
        return logits.data.withUnsafeBufferPointer {
            SoftmaxCrossEntropy.compute(logits: $0.baseAddress!, batch: labels.count, classes: c, labels: labels, grad: nil)
        }
    }
}

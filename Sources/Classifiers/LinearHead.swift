import SeafoldCore

/// The paper's "FC" head: a fresh `Linear(d → C)` trained with softmax cross-entropy and Adam
/// on fixed features, then `softmax` at test time (PyTorch semantics throughout):
/// - init as `nn.Linear`: weight and bias each U(−1/√d, +1/√d) (kaiming_uniform with a = √5),
///   drawn from a `SeededGenerator`, weight first (row-major [C, d]) then bias;
/// - loss: mean over the batch of −log softmax(logits)[label] (`nn.CrossEntropyLoss`);
/// - optimiser: `HeadAdam` (torch.optim.Adam, bias-corrected);
/// - batches: each epoch's index list comes from a closure (the variant's sampler), cut into
///   consecutive batches of `batchSize`, the last partial batch kept (`DataLoader(drop_last=False)`).
/// The batch matmuls use BLAS sgemm. Reported epoch loss is the per-sample mean
/// (Σ batch loss × batch size / samples), accuracy the fraction of samples whose logits, before
/// that batch's update, ranked the true class first.
public final class LinearHead {
    public struct Config: Codable, Equatable, Sendable {
        public var learningRate: Float = 1e-4
        public var beta1: Float = 0.9
        public var beta2: Float = 0.999
        public var eps: Float = 1e-8
        public var weightDecay: Float = 0
        public var batchSize: Int = 6
        public var epochs: Int = 30
        public init(learningRate: Float = 1e-4, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                    weightDecay: Float = 0, batchSize: Int = 6, epochs: Int = 30) {
            self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
            self.weightDecay = weightDecay; self.batchSize = batchSize; self.epochs = epochs
        }
    }

    /// One epoch of training (epoch is 0-based).
    public struct EpochStats: Codable, Equatable, Sendable {
        public var epoch: Int
        public var loss: Double
        public var accuracy: Double
    }

    public let inputDim: Int
    public let numClasses: Int
    public var config: Config
    /// [numClasses, inputDim] row-major, PyTorch's `weight` layout.
    public private(set) var weight: [Float]
    public private(set) var bias: [Float]
    private var optimizer: HeadAdam

    /// A freshly initialised head (PyTorch default init) from `rng`.
    public init(inputDim: Int, numClasses: Int, rng: inout SeededGenerator, config: Config = Config()) throws {
        guard inputDim > 0, numClasses > 0 else {
            throw SeafoldError.config(key: "heads.fc", reason: "input dimension (\(inputDim)) and number of classes (\(numClasses)) must be positive")
        }
        let bound = 1 / Float(inputDim).squareRoot()
        var w = [Float](repeating: 0, count: numClasses * inputDim)
        for i in w.indices { w[i] = rng.uniform(-bound, bound) }
        var b = [Float](repeating: 0, count: numClasses)
        for i in b.indices { b[i] = rng.uniform(-bound, bound) }
        self.inputDim = inputDim; self.numClasses = numClasses; self.config = config
        weight = w; bias = b
        optimizer = HeadAdam(sizes: [w.count, b.count])
    }

    /// A freshly initialised head from `SeededGenerator(seed: seed)`.
    public convenience init(inputDim: Int, numClasses: Int, seed: UInt64, config: Config = Config()) throws {
        var rng = SeededGenerator(seed: seed)
        try self.init(inputDim: inputDim, numClasses: numClasses, rng: &rng, config: config)
    }

    /// A head with given parameters (tests, or restoring a trained head).
    public init(weight: [Float], bias: [Float], inputDim: Int, config: Config = Config()) throws {
        guard inputDim > 0, !bias.isEmpty, weight.count == bias.count * inputDim else {
            throw SeafoldError.mismatch(what: "LinearHead parameters", expected: "weight of \(bias.count)x\(inputDim) values",
                                        found: "\(weight.count) values")
        }
        self.inputDim = inputDim; numClasses = bias.count; self.config = config
        self.weight = weight; self.bias = bias
        optimizer = HeadAdam(sizes: [weight.count, bias.count])
    }

    /// Trains for `config.epochs` epochs; `epochOrder(e)` gives the sample indices of epoch e.
    /// Throws on bad labels/indices, or `SeafoldError.diverged` naming epoch and step on a
    /// non-finite loss (parameters are left as they were before that step).
    @discardableResult
    public func train(_ X: FeatureMatrix, labels: [Int], epochOrder: (Int) throws -> [Int]) throws -> [EpochStats] {
        try LabelCheck.validate(X, labels, who: "LinearHead.train")
        guard X.cols == inputDim else {
            throw SeafoldError.mismatch(what: "LinearHead features", expected: "\(inputDim) columns", found: "\(X.cols) columns")
        }
        if let bad = labels.first(where: { $0 >= numClasses }) {
            throw SeafoldError.badInput(path: "LinearHead.train", reason: "label \(bad) is not below the number of classes (\(numClasses))")
        }
        guard config.batchSize > 0, config.epochs >= 0 else {
            throw SeafoldError.config(key: "heads.fc", reason: "batch size (\(config.batchSize)) must be positive and epochs (\(config.epochs)) non-negative")
        }
        var stats: [EpochStats] = []
        var step = 0
        for epoch in 0..<config.epochs {
            let order = try epochOrder(epoch)
            if let bad = order.first(where: { $0 < 0 || $0 >= X.rows }) {
                throw SeafoldError.badInput(path: "LinearHead.train", reason: "epoch \(epoch) order contains index \(bad), outside 0..<\(X.rows)")
            }
            var lossSum = 0.0, correct = 0
            var start = 0
            while start < order.count {
                let batch = Array(order[start..<min(start + config.batchSize, order.count)])
                let xb = gather(X, batch)
                let yb = batch.map { labels[$0] }
                let r = lossAndGradients(batch: xb, labels: yb)
                if !r.loss.isFinite {
                    throw SeafoldError.diverged(reason: "FC head loss is \(r.loss) at epoch \(epoch + 1), step \(step + 1)")
                }
                lossSum += Double(r.loss) * Double(batch.count)
                correct += r.correct
                optimizer.beginStep()
                optimizer.update(0, &weight, r.gradWeight, config: config)
                optimizer.update(1, &bias, r.gradBias, config: config)
                step += 1
                start += config.batchSize
            }
            let n = Double(max(order.count, 1))
            stats.append(EpochStats(epoch: epoch, loss: lossSum / n, accuracy: Double(correct) / n))
        }
        return stats
    }

    /// Softmax probabilities, one row of `numClasses` values per sample.
    public func probabilities(_ X: FeatureMatrix) throws -> [[Float]] {
        guard X.cols == inputDim else {
            throw SeafoldError.mismatch(what: "LinearHead features", expected: "\(inputDim) columns", found: "\(X.cols) columns")
        }
        var out: [[Float]] = []
        out.reserveCapacity(X.rows)
        let chunk = 1024
        var start = 0
        while start < X.rows {
            let m = min(chunk, X.rows - start)
            let xb = Array(X.values[(start * inputDim)..<((start + m) * inputDim)])
            let logits = forward(xb, rows: m)
            for r in 0..<m { out.append(Self.softmax(logits[(r * numClasses)..<((r + 1) * numClasses)])) }
            start += m
        }
        return out
    }

    /// Arg-max of the probabilities (the first maximum on ties, like `torch.argmax`).
    public func predict(_ X: FeatureMatrix) throws -> [Int] {
        try probabilities(X).map { p in
            var best = 0
            for c in 1..<p.count where p[c] > p[best] { best = c }
            return best
        }
    }

    // MARK: - internals

    /// Number of optimiser steps taken so far (tests: batches per epoch).
    var optimizerSteps: Int { optimizer.t }

    func gather(_ X: FeatureMatrix, _ rows: [Int]) -> [Float] {
        var xb = [Float](repeating: 0, count: rows.count * inputDim)
        for (r, i) in rows.enumerated() {
            xb.replaceSubrange((r * inputDim)..<((r + 1) * inputDim), with: X.row(i))
        }
        return xb
    }

    /// logits[B, C] = xb[B, d] · Wᵀ + b.
    func forward(_ xb: [Float], rows: Int) -> [Float] {
        var logits = [Float](repeating: 0, count: rows * numClasses)
        for r in 0..<rows { for c in 0..<numClasses { logits[r * numClasses + c] = bias[c] } }
        xb.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                logits.withUnsafeMutableBufferPointer { lp in
                    BLAS.sgemm(transB: true, m: rows, n: numClasses, k: inputDim, a: xp.baseAddress!, lda: inputDim,
                               b: wp.baseAddress!, ldb: inputDim, beta: 1, c: lp.baseAddress!, ldc: numClasses)
                }
            }
        }
        return logits
    }

    /// Mean cross-entropy of one batch, its gradients wrt weight and bias, and the number of
    /// samples whose arg-max logit is the label.
    func lossAndGradients(batch xb: [Float], labels: [Int]) -> (loss: Float, gradWeight: [Float], gradBias: [Float], correct: Int) {
        let B = labels.count, C = numClasses
        var dlogits = forward(xb, rows: B)
        var loss: Float = 0
        var correct = 0
        let invB = 1 / Float(B)
        for r in 0..<B {
            let row = dlogits[(r * C)..<((r + 1) * C)]
            let mx = row.max()!
            var argmax = 0
            for c in 1..<C where row[r * C + c] > row[r * C + argmax] { argmax = c }
            if argmax == labels[r] { correct += 1 }
            var sum: Float = 0
            for c in 0..<C { sum += (row[r * C + c] - mx).exp() }
            let logSum = mx + sum.log()
            loss += (logSum - row[r * C + labels[r]]) * invB
            for c in 0..<C {
                let p = (dlogits[r * C + c] - logSum).exp()
                dlogits[r * C + c] = (p - (c == labels[r] ? 1 : 0)) * invB
            }
        }
        var gW = [Float](repeating: 0, count: C * inputDim)
        dlogits.withUnsafeBufferPointer { dp in
            xb.withUnsafeBufferPointer { xp in
                gW.withUnsafeMutableBufferPointer { gp in
                    // gW[C, d] = dlogitsᵀ[C, B] · xb[B, d]
                    BLAS.sgemm(transA: true, m: C, n: inputDim, k: B, a: dp.baseAddress!, lda: C,
                               b: xp.baseAddress!, ldb: inputDim, c: gp.baseAddress!, ldc: inputDim)
                }
            }
        }
        var gB = [Float](repeating: 0, count: C)
        for r in 0..<B { for c in 0..<C { gB[c] += dlogits[r * C + c] } }
        return (loss, gW, gB, correct)
    }

    static func softmax(_ z: ArraySlice<Float>) -> [Float] {
        let mx = z.max() ?? 0
        let e = z.map { ($0 - mx).exp() }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}

extension Float {
    fileprivate func exp() -> Float { Float(Foundation.exp(Double(self))) }
    fileprivate func log() -> Float { Float(Foundation.log(Double(self))) }
}

import Foundation

import SeafoldCore

/// AlexNet exactly as torchvision's `models.alexnet` (layer list, state-dict keys, PyTorch
/// default initialisation), with optional width/input/hidden scaling from `AlexNetConfig`.
///
/// features: Conv(3→64,k11,s4,p2) ReLU MaxPool(3,2) Conv(64→192,k5,p2) ReLU MaxPool(3,2)
/// Conv(192→384,k3,p1) ReLU Conv(384→256,k3,p1) ReLU Conv(256→256,k3,p1) ReLU MaxPool(3,2);
/// avgpool: AdaptiveAvgPool2d(6×6); classifier: Dropout Linear(9216→4096) ReLU Dropout
/// Linear(4096→4096) ReLU Linear(4096→classes). The network owns its activation buffers and
/// reuses them across calls, so one instance must not be used from two threads at once.
public final class AlexNet {
    public private(set) var config: AlexNetConfig
    /// How the layers compute (`EngineOptions`); setting it passes it to every layer.
    public var options: EngineOptions {
        didSet { applyOptions() }
    }
    /// The layers in execution order (features.*, avgpool, flatten, classifier.*).
    public private(set) var layers: [Layer] = []
    private let input = FloatBuffer()
    private let gradLogits = FloatBuffer()
    private let tailInput = FloatBuffer()
    /// Largest batch pushed through at once in eval helpers (bounds activation memory).
    public var evalBatchSize = 64

    /// Builds the network and initialises it like PyTorch from streams derived from `seed`
    /// (one stream per layer, named by its key, so replacing one layer leaves the others alone).
    public init(config: AlexNetConfig, seed: UInt64, options: EngineOptions = .default) throws {
        try config.validate()
        self.config = config
        self.options = options
        let ch = config.channels, s = config.inputSize
        var shape = [3, s, s]
        var ls: [Layer] = []
        func conv(_ i: Int, _ out: Int, _ k: Int, _ st: Int, _ p: Int) throws {
            let c = try Conv2d(name: "features.\(i)", inShape: shape, outChannels: out, kernel: k, stride: st, padding: p,
                               options: options)
            ls.append(c); shape = c.outShape
            ls.append(ReLU(name: "features.\(i + 1)", shape: shape))
        }
        func pool(_ i: Int) throws {
            let m = try MaxPool2d(name: "features.\(i)", inShape: shape, kernel: 3, stride: 2)
            ls.append(m); shape = m.outShape
        }
        try conv(0, ch[0], 11, 4, 2); try pool(2)
        try conv(3, ch[1], 5, 1, 2); try pool(5)
        try conv(6, ch[2], 3, 1, 1)
        try conv(8, ch[3], 3, 1, 1)
        try conv(10, ch[4], 3, 1, 1); try pool(12)
        let avg = try AdaptiveAvgPool2d(name: "avgpool", inShape: shape, outputSize: (6, 6))
        ls.append(avg)
        let flat = Flatten(name: "flatten", inShape: avg.outShape)
        ls.append(flat)
        let f = flat.outShape[0], h = config.hiddenWidth
        ls.append(try Dropout(name: "classifier.0", shape: [f], p: config.dropout))
        ls.append(try Linear(name: "classifier.1", inFeatures: f, outFeatures: h, options: options))
        ls.append(ReLU(name: "classifier.2", shape: [h]))
        ls.append(try Dropout(name: "classifier.3", shape: [h], p: config.dropout))
        ls.append(try Linear(name: "classifier.4", inFeatures: h, outFeatures: h, options: options))
        ls.append(ReLU(name: "classifier.5", shape: [h]))
        ls.append(try Linear(name: "classifier.6", inFeatures: h, outFeatures: config.numClasses, options: options))
        layers = ls
        for l in layers { initialise(l, seed: seed) }
    }

    private func applyOptions() {
        for l in layers {
            if let c = l as? Conv2d { c.options = options }
            if let c = l as? Linear { c.options = options }
        }
    }

    private func initialise(_ l: Layer, seed: UInt64) {
        var rng = SeededGenerator.derive(seed: seed, "init/" + l.name)
        if let c = l as? Conv2d { c.reset(rng: &rng) }
        if let c = l as? Linear { c.reset(rng: &rng) }
    }

    /// All parameters in state-dict order.
    public var parameters: [Parameter] { layers.flatMap { $0.parameters } }
    /// Parameter keys in state-dict order.
    public var parameterKeys: [String] { parameters.map(\.key) }
    /// Total number of parameters (61,100,840 for torchvision's AlexNet with 1000 classes).
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
    /// Forward FLOPs per image (multiply and add counted separately; GEMM layers only).
    public var forwardFlopsPerImage: Int {
        layers.reduce(0) { acc, l in
            if let c = l as? Conv2d { return acc + c.forwardFlops }
            if let c = l as? Linear { return acc + c.forwardFlops }
            return acc
        }
    }
    /// Index of the layer named `name`, if any.
    public func layerIndex(_ name: String) -> Int? { layers.firstIndex { $0.name == name } }

    /// The weights under torchvision's state-dict keys (copies).
    public func stateDict() -> [String: Tensor] {
        var d: [String: Tensor] = [:]
        for p in parameters { d[p.key] = p.tensor }
        return d
    }

    /// Loads weights. Strict (PyTorch's default): every key must be present and no other key
    /// may appear. A shape mismatch is always an error. Errors name the key and both shapes.
    /// Nothing is changed unless the whole dict checks out.
    public func load(stateDict: [String: Tensor], strict: Bool = true) throws {
        let own = Dictionary(uniqueKeysWithValues: parameters.map { ($0.key, $0) })
        if strict {
            for p in parameters where stateDict[p.key] == nil {
                throw SeafoldError.mismatch(what: "state dict key '\(p.key)'", expected: "a tensor of shape \(Tensor.describe(p.shape))", found: "no such key")
            }
            for k in stateDict.keys.sorted() where own[k] == nil {
                throw SeafoldError.mismatch(what: "state dict key '\(k)'", expected: "no such key in this AlexNet (keys \(parameterKeys.first ?? "")…\(parameterKeys.last ?? ""))", found: "an unexpected key")
            }
        }
        for p in parameters {
            guard let t = stateDict[p.key] else { continue }
            if t.shape != p.shape || t.count != p.count {
                throw SeafoldError.mismatch(what: "shape of '\(p.key)'", expected: Tensor.describe(p.shape), found: Tensor.describe(t.shape))
            }
        }
        for p in parameters { if let t = stateDict[p.key] { p.set(t) } }
    }

    /// Replaces classifier.6 by a fresh Linear(hiddenWidth → numClasses), PyTorch-initialised
    /// from `seed` (the per-task output layer of the paper's fine-tuning).
    public func replaceOutputLayer(numClasses: Int, seed: UInt64) throws {
        guard numClasses >= 1 else { throw SeafoldError.config(key: "numClasses", reason: "must be at least 1, got \(numClasses)") }
        guard let i = layerIndex("classifier.6") else { return }
        let l = try Linear(name: "classifier.6", inFeatures: config.hiddenWidth, outFeatures: numClasses, options: options)
        initialise(l, seed: seed)
        layers[i] = l
        config.numClasses = numClasses
    }

    // MARK: running

    func checkInput(_ x: Tensor) throws -> Int {
        let s = config.inputSize
        guard x.shape.count == 4, x.shape[1] == 3, x.shape[2] == s, x.shape[3] == s, x.shape[0] >= 1 else {
            throw SeafoldError.mismatch(what: "AlexNet input", expected: "[N, 3, \(s), \(s)]", found: Tensor.describe(x.shape))
        }
        return x.shape[0]
    }

    /// Runs layers 0...last on `batch` samples already in `input`; returns the output pointer.
    func run(batch: Int, through last: Int, training: Bool, rng: inout SeededGenerator) -> UnsafeMutablePointer<Float> {
        var p = input.ptr
        for l in layers[0...last] { p = l.forward(p, batch: batch, training: training, rng: &rng) }
        return p
    }

    /// Copies samples lo..<hi of `x` into the input buffer.
    func stage(_ x: Tensor, _ lo: Int, _ hi: Int) {
        let per = 3 * config.inputSize * config.inputSize
        input.ensure((hi - lo) * per)
        x.data.withUnsafeBufferPointer { src in
            input.ptr.update(from: src.baseAddress! + lo * per, count: (hi - lo) * per)
        }
    }

    /// Output of layer `last` for every sample of `x`, in micro-batches of `evalBatchSize`.
    func evaluate(_ x: Tensor, through last: Int, training: Bool, rng: inout SeededGenerator, softmax: Bool = false) throws -> Tensor {
        let n = try checkInput(x)
        let outShape = layers[last].outShape, per = outShape.reduce(1, *)
        var out = [Float](repeating: 0, count: n * per)
        var lo = 0
        let step = training ? n : max(1, evalBatchSize)
        while lo < n {
            let hi = min(n, lo + step)
            stage(x, lo, hi)
            let y = run(batch: hi - lo, through: last, training: training, rng: &rng)
            if softmax { SoftmaxCrossEntropy.softmax(y, batch: hi - lo, classes: per) }
            out.withUnsafeMutableBufferPointer { o in
                (o.baseAddress! + lo * per).update(from: y, count: (hi - lo) * per)
            }
            lo = hi
        }
        return Tensor(shape: [n] + outShape, data: out)
    }

    /// Logits [N, numClasses]. In training mode dropout draws from `rng` (whole batch at once).
    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) throws -> Tensor {
        try evaluate(x, through: layers.count - 1, training: training, rng: &rng)
    }

    /// The output of classifier.5 (after its ReLU) in eval mode: [N, hiddenWidth].
    public func penultimateFeatures(_ x: Tensor) throws -> Tensor {
        var rng = SeededGenerator(seed: 0)
        return try evaluate(x, through: layerIndex("classifier.5") ?? layers.count - 2, training: false, rng: &rng)
    }

    /// The flattened pooled features, the input of classifier.0, in eval mode: [N, 256·6·6]
    /// (scaled by the width multiplier). Features layers have no dropout, so this is also what
    /// training mode computes.
    public func pooledFeatures(_ x: Tensor) throws -> Tensor {
        var rng = SeededGenerator(seed: 0)
        guard let c0 = layerIndex("classifier.0"), c0 > 0 else {
            throw SeafoldError.message("the model has no classifier.0 layer")
        }
        return try evaluate(x, through: c0 - 1, training: false, rng: &rng)
    }

    /// classifier.0 … classifier.5 on pooled features (`pooledFeatures`): [N, hiddenWidth]. In
    /// training mode the two dropout layers draw from `rng` exactly as `forward` does for the
    /// same batch (classifier.0's mask for the whole batch, then classifier.3's), so a loop on
    /// cached pooled features sees the features the full network would.
    public func penultimate(fromPooled x: Tensor, training: Bool, rng: inout SeededGenerator) throws -> Tensor {
        guard let c0 = layerIndex("classifier.0"), let c5 = layerIndex("classifier.5"), c0 <= c5 else {
            throw SeafoldError.message("the model has no classifier.0 … classifier.5 layers")
        }
        let per = layers[c0].inShape.reduce(1, *)
        guard x.shape.count == 2, x.shape[1] == per, x.shape[0] >= 1 else {
            throw SeafoldError.mismatch(what: "pooled features", expected: "[N, \(per)]", found: Tensor.describe(x.shape))
        }
        let n = x.shape[0]
        tailInput.ensure(n * per)
        x.data.withUnsafeBufferPointer { tailInput.ptr.update(from: $0.baseAddress!, count: n * per) }
        var p = tailInput.ptr
        for l in layers[c0...c5] { p = l.forward(p, batch: n, training: training, rng: &rng) }
        let outPer = layers[c5].outShape.reduce(1, *)
        return Tensor(shape: [n, outPer], data: Array(UnsafeBufferPointer(start: p, count: n * outPer)))
    }

    /// Class probabilities (softmax of the logits) in eval mode: [N, numClasses].
    public func probabilities(_ x: Tensor) throws -> Tensor {
        var rng = SeededGenerator(seed: 0)
        return try evaluate(x, through: layers.count - 1, training: false, rng: &rng, softmax: true)
    }

    // MARK: training support

    /// Forward in training mode + loss + backward for one batch. Parameters with
    /// `requiresGrad` get gradients; layers below the lowest trainable one do no work at all.
    func trainForwardBackward(_ x: Tensor, labels: [Int], training: Bool, rng: inout SeededGenerator) throws -> (loss: Float, correct: Int) {
        let n = try checkInput(x)
        guard labels.count == n else {
            throw SeafoldError.mismatch(what: "labels for a batch", expected: "\(n) labels", found: "\(labels.count)")
        }
        let classes = config.numClasses
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw SeafoldError.mismatch(what: "label", expected: "0..<\(classes)", found: "\(bad)")
        }
        stage(x, 0, n)
        let logits = run(batch: n, through: layers.count - 1, training: training, rng: &rng)
        gradLogits.ensure(n * classes)
        let r = SoftmaxCrossEntropy.compute(logits: logits, batch: n, classes: classes, labels: labels, grad: gradLogits.ptr)
        guard let firstTrainable = layers.firstIndex(where: { $0.needsParamGrad }) else { return r }
        var g = gradLogits.ptr
        for i in stride(from: layers.count - 1, through: firstTrainable, by: -1) {
            g = layers[i].backward(g, batch: n, inputGrad: i > firstTrainable)
        }
        return r
    }
}

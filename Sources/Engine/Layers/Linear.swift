import SeafoldCore

/// Fully connected layer y = x·Wᵀ + b (PyTorch `nn.Linear`), weight [out, in], bias [out].
public final class Linear: Layer {
    public let inFeatures: Int, outFeatures: Int
    let weight: Parameter, bias: Parameter
    private let output = FloatBuffer(), gx = FloatBuffer()
    private var input: UnsafeMutablePointer<Float>?

    public init(name: String, inFeatures: Int, outFeatures: Int, options: EngineOptions = .default) throws {
        self.options = options
        guard inFeatures > 0, outFeatures > 0 else {
            throw SeafoldError.config(key: name, reason: "Linear needs positive sizes, got \(inFeatures)→\(outFeatures)")
        }
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        weight = Parameter(key: name.isEmpty ? "weight" : name + ".weight", shape: [outFeatures, inFeatures])
        bias = Parameter(key: name.isEmpty ? "bias" : name + ".bias", shape: [outFeatures])
        super.init(name: name, inShape: [inFeatures], outShape: [outFeatures])
        parameters = [weight, bias]
    }

    var forwardFlops: Int { 2 * inFeatures * outFeatures }

    /// How this layer computes (`deferredWeightGradients`); an `AlexNet` sets its own here.
    public var options: EngineOptions
    /// Largest batch for which deferring pays: the fused optimizer spends `batch` multiply-adds
    /// per element to avoid writing and re-reading the dense gradient (2 floats of memory
    /// traffic per element); beyond ~8 terms the arithmetic costs about as much as the traffic.
    static let deferredGradientMaxBatch = 8
    /// Smallest weight (elements) worth deferring: below L2-cache size the dense gradient is cheap.
    static let deferredGradientMinCount = 1 << 18

    func defersWeightGradient(batch: Int) -> Bool {
        options.deferredWeightGradients && batch <= Linear.deferredGradientMaxBatch
            && weight.count >= Linear.deferredGradientMinCount
    }

    func reset(rng: inout SeededGenerator) { pytorchDefaultInit(weight: weight, bias: bias, fanIn: inFeatures, rng: &rng) }

    override func forward(_ x: UnsafeMutablePointer<Float>, batch: Int, training: Bool,
                          rng: inout SeededGenerator) -> UnsafeMutablePointer<Float> {
        input = x
        output.ensure(batch * outFeatures)
        let out = output.ptr, b = bias.value.ptr
        // Bias first, then accumulate x·Wᵀ with beta = 1 (saves a pass).
        for n in 0..<batch { (out + n * outFeatures).update(from: b, count: outFeatures) }
        sgemm(transA: false, transB: true, m: batch, n: outFeatures, k: inFeatures,
              a: x, lda: inFeatures, b: weight.value.ptr, ldb: inFeatures, beta: 1, c: out, ldc: outFeatures)
        return out
    }

    override func backward(_ gy: UnsafeMutablePointer<Float>, batch: Int, inputGrad: Bool) -> UnsafeMutablePointer<Float> {
        guard let x = input else { fatalError("Linear.backward before forward") }
        if weight.requiresGrad && defersWeightGradient(batch: batch) {
            // dW = gyᵀ·x is rank `batch`: keep the factors; Adam computes dW on the fly.
            weight.deferGradient(rows: outFeatures, cols: inFeatures, batch: batch,
                                 a: gy, lda: outFeatures, b: x, ldb: inFeatures)
        } else if weight.requiresGrad {
            // dW[out, in] = gyᵀ[out, N] · x[N, in]
            sgemm(transA: true, transB: false, m: outFeatures, n: inFeatures, k: batch,
                  a: gy, lda: outFeatures, b: x, ldb: inFeatures, beta: 0, c: weight.gradForOverwrite().ptr, ldc: inFeatures)
        }
        if bias.requiresGrad {
            let db = bias.grad.ptr
            db.update(repeating: 0, count: outFeatures)
            for n in 0..<batch { let r = gy + n * outFeatures; for o in 0..<outFeatures { db[o] += r[o] } }
        }
        gx.ensure(batch * inFeatures)
        if inputGrad {
            // dx[N, in] = gy[N, out] · W[out, in]
            sgemm(transA: false, transB: false, m: batch, n: inFeatures, k: outFeatures,
                  a: gy, lda: outFeatures, b: weight.value.ptr, ldb: inFeatures, beta: 0, c: gx.ptr, ldc: inFeatures)
        }
        return gx.ptr
    }
}

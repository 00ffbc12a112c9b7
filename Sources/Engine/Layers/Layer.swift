import SeafoldCore

/// A learnable tensor of a layer, named by its PyTorch state-dict key (e.g. `features.0.weight`).
///
/// `value` is preallocated, `grad` on first use, both reused; `requiresGrad == false` freezes it (its layer then
/// computes no gradient for it, like `requires_grad_(False)` in PyTorch).
///
/// A layer may leave the gradient *deferred* as low-rank factors (`LowRankGradient`, e.g. a
/// Linear layer's dW = gyᵀ·x at a small batch) instead of writing the dense tensor. An optimizer
/// that understands the factors (Adam) computes each element on the fly while it updates, so the
/// dense gradient is never written nor read back; anything else that reads `grad` gets it
/// materialised first, with the same sgemm the layer would have used, so every reader sees
/// exactly what it saw before the deferral existed.
public final class Parameter {
    public let key: String
    public let shape: [Int]
    public let count: Int
    public internal(set) var requiresGrad = true
    let value: FloatBuffer
    /// Dense gradient storage; sized on first use, so a parameter whose gradient only ever
    /// arrives deferred never pays for (nor touches) a dense buffer.
    private let gradStorage = FloatBuffer()
    /// The deferred gradient of the last backward pass, if it was not written densely.
    private(set) var deferredGradient: LowRankGradient?

    init(key: String, shape: [Int]) {
        self.key = key
        self.shape = shape
        count = shape.reduce(1, *)
        value = FloatBuffer(count: count)
    }

    /// The dense gradient of the last backward pass (materialised from the factors if deferred).
    /// Writers use it too (the deferral is then dropped: the dense buffer becomes the gradient).
    var grad: FloatBuffer {
        if deferredGradient != nil { materialiseGradient() }
        gradStorage.ensure(count)
        return gradStorage
    }

    /// The current values as a tensor (a copy).
    public var tensor: Tensor { Tensor(shape: shape, data: value.array(count)) }
    /// The gradient from the last backward pass (a copy).
    public var gradient: Tensor { Tensor(shape: shape, data: grad.array(count)) }
    /// Whether the last backward left this gradient as low-rank factors (not yet materialised).
    public var gradientIsDeferred: Bool { deferredGradient != nil }

    /// Records the gradient as Σₙ a[n]ᵀ·b[n] (a: [batch, rows] row stride `lda`, b: [batch, cols]
    /// row stride `ldb`, rows·cols == count), copying both factors (the callers' buffers are
    /// reused by the next forward/backward). The buffers are reused across steps.
    func deferGradient(rows: Int, cols: Int, batch: Int, a: UnsafePointer<Float>, lda: Int,
                       b: UnsafePointer<Float>, ldb: Int) {
        precondition(rows * cols == count && batch >= 1)
        let d = deferredGradient ?? spareFactors ?? LowRankGradient()
        d.set(rows: rows, cols: cols, batch: batch, a: a, lda: lda, b: b, ldb: ldb)
        deferredGradient = d
        spareFactors = nil
    }
    /// The factor buffers of a dropped deferral, kept for the next one (no reallocation per step).
    private var spareFactors: LowRankGradient?

    /// The dense gradient buffer for a layer about to overwrite it: drops a deferral from an
    /// earlier pass without materialising it (that work would be thrown away).
    func gradForOverwrite() -> FloatBuffer {
        if let d = deferredGradient { spareFactors = d; deferredGradient = nil }
        gradStorage.ensure(count)
        return gradStorage
    }

    /// Writes the deferred gradient densely into `grad` (exactly the unfused layer's sgemm).
    public func materialiseGradient() {
        guard let d = deferredGradient else { return }
        deferredGradient = nil
        spareFactors = d
        gradStorage.ensure(count)
        d.materialise(into: gradStorage.ptr)
    }

    /// Puts back the factors dropped by the last `materialiseGradient()` (they still describe
    /// the same gradient), so both paths can be timed on one gradient.
    public func restoreDeferredGradient() {
        if deferredGradient == nil, let s = spareFactors { deferredGradient = s; spareFactors = nil }
    }

    /// Overwrites the values; `t.shape` must equal `shape` (checked by callers that take user input).
    func set(_ t: Tensor) {
        precondition(t.count == count)
        value.copy(from: t.data)
    }
}

/// A gradient kept as the product of two thin factors: G[r, c] = Σₙ a[n, r]·b[n, c] for
/// n = 0..<batch (a Linear weight gradient gyᵀ·x). `element(r, c)` sums in increasing n, one
/// multiply and one add per term, in Float, so a value never depends on how the work is cut.
final class LowRankGradient {
    private(set) var rows = 0, cols = 0, batch = 0
    /// a: [batch, rows]; b: [batch, cols], both contiguous.
    let a = FloatBuffer(), b = FloatBuffer()

    func set(rows: Int, cols: Int, batch: Int, a src: UnsafePointer<Float>, lda: Int,
             b bsrc: UnsafePointer<Float>, ldb: Int) {
        self.rows = rows; self.cols = cols; self.batch = batch
        a.ensure(batch * rows); b.ensure(batch * cols)
        for n in 0..<batch {
            (a.ptr + n * rows).update(from: src + n * lda, count: rows)
            (b.ptr + n * cols).update(from: bsrc + n * ldb, count: cols)
        }
    }

    /// The dense G through the same sgemm call Linear used before deferral existed.
    func materialise(into c: UnsafeMutablePointer<Float>) {
        sgemm(transA: true, transB: false, m: rows, n: cols, k: batch,
              a: a.ptr, lda: rows, b: b.ptr, ldb: cols, beta: 0, c: c, ldc: cols)
    }
}

/// One stage of a sequential network working on whole batches in preallocated buffers.
///
/// `inShape`/`outShape` are per-sample shapes ([C, H, W] or [F]). `forward` returns a pointer to
/// its output (its own buffer, or the input itself for in-place layers); the pointer stays valid
/// until the next forward. `backward` takes the gradient of the output (which it may overwrite)
/// and returns the gradient of the input when `inputGrad` is true; it computes gradients for the
/// parameters that require them. It relies on the input pointer given to the last forward.
public class Layer {
    /// The layer's torchvision name, e.g. `features.3` (empty for anonymous layers).
    public let name: String
    public let inShape: [Int]
    public let outShape: [Int]
    public internal(set) var parameters: [Parameter] = []

    init(name: String, inShape: [Int], outShape: [Int]) {
        self.name = name
        self.inShape = inShape
        self.outShape = outShape
    }

    var inCount: Int { inShape.reduce(1, *) }
    var outCount: Int { outShape.reduce(1, *) }
    var needsParamGrad: Bool { parameters.contains { $0.requiresGrad } }

    func forward(_ x: UnsafeMutablePointer<Float>, batch: Int, training: Bool,
                 rng: inout SeededGenerator) -> UnsafeMutablePointer<Float> {
        fatalError("abstract")
    }

    func backward(_ gy: UnsafeMutablePointer<Float>, batch: Int, inputGrad: Bool) -> UnsafeMutablePointer<Float> {
        fatalError("abstract")
    }

    // Tensor-level entry points (tests, small tools). They keep their own copies of the
    // input so that a later `backward(_:)` sees the same input.
    private let tensorIn = FloatBuffer()
    private let tensorGrad = FloatBuffer()
    private var lastBatch = 0

    /// Runs the layer on `x` ([N] + inShape) and returns [N] + outShape.
    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) -> Tensor {
        let n = x.count / max(inCount, 1)
        precondition(n * inCount == x.count, "\(name): input \(x.shape) does not match \(inShape)")
        tensorIn.copy(from: x.data)
        lastBatch = n
        let y = forward(tensorIn.ptr, batch: n, training: training, rng: &rng)
        return Tensor(shape: [n] + outShape, data: Array(UnsafeBufferPointer(start: y, count: n * outCount)))
    }

    /// Backpropagates `gy` through the last `forward(_:)`; returns the input gradient.
    public func backward(_ gy: Tensor) -> Tensor {
        tensorGrad.copy(from: gy.data)
        let gx = backward(tensorGrad.ptr, batch: lastBatch, inputGrad: true)
        return Tensor(shape: [lastBatch] + inShape, data: Array(UnsafeBufferPointer(start: gx, count: lastBatch * inCount)))
    }

    /// Sets whether this layer's parameters are trained.
    public func setTrainable(_ on: Bool) { for p in parameters { p.requiresGrad = on } }
}

/// PyTorch's default initialisation for Conv2d and Linear: kaiming_uniform(a=√5) on the weight,
/// which is U(−1/√fan_in, 1/√fan_in), and U(−1/√fan_in, 1/√fan_in) on the bias.
func pytorchDefaultInit(weight: Parameter, bias: Parameter, fanIn: Int, rng: inout SeededGenerator) {
    let bound = Float(1.0 / Double(fanIn).squareRoot())
    for i in 0..<weight.count { weight.value.ptr[i] = rng.uniform(-bound, bound) }
    for i in 0..<bias.count { bias.value.ptr[i] = rng.uniform(-bound, bound) }
}

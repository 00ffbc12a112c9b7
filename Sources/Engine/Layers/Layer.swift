import SeafoldCore

/// A learnable tensor of a layer, named by its PyTorch state-dict key (e.g. `features.0.weight`).
///
/// `value` and `grad` are preallocated buffers; `requiresGrad == false` freezes it (its layer then
/// computes no gradient for it, like `requires_grad_(False)` in PyTorch).
public final class Parameter {
    public let key: String
    public let shape: [Int]
    public let count: Int
    public internal(set) var requiresGrad = true
    let value: FloatBuffer
    let grad: FloatBuffer

    init(key: String, shape: [Int]) {
        self.key = key
        self.shape = shape
        count = shape.reduce(1, *)
        value = FloatBuffer(count: count)
        grad = FloatBuffer(count: count)
    }

    /// The current values as a tensor (a copy).
    public var tensor: Tensor { Tensor(shape: shape, data: value.array(count)) }
    /// The gradient from the last backward pass (a copy).
    public var gradient: Tensor { Tensor(shape: shape, data: grad.array(count)) }

    /// Overwrites the values; `t.shape` must equal `shape` (checked by callers that take user input).
    func set(_ t: Tensor) {
        precondition(t.count == count)
        value.copy(from: t.data)
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

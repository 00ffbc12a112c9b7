import SeafoldCore

/// ReLU, applied in place (PyTorch `nn.ReLU(inplace=True)`, as in torchvision's AlexNet).
/// Backward masks the incoming gradient where the output is not positive (gradient 0 at 0).
public final class ReLU: Layer {
    private var y: UnsafeMutablePointer<Float>?

    public init(name: String, shape: [Int]) { super.init(name: name, inShape: shape, outShape: shape) }

    override func forward(_ x: UnsafeMutablePointer<Float>, batch: Int, training: Bool,
                          rng: inout SeededGenerator) -> UnsafeMutablePointer<Float> {
        let n = batch * inCount
        parallelFor(2, minPerThread: n >= 1 << 16 ? 1 : 2) { part in
            let lo = part * n / 2, hi = (part + 1) * n / 2
            for i in lo..<hi { x[i] = max(x[i], 0) }
        }
        y = x
        return x
    }

    override func backward(_ gy: UnsafeMutablePointer<Float>, batch: Int, inputGrad: Bool) -> UnsafeMutablePointer<Float> {
        guard inputGrad, let y else { return gy }
        let n = batch * inCount
        parallelFor(2, minPerThread: n >= 1 << 16 ? 1 : 2) { part in
            let lo = part * n / 2, hi = (part + 1) * n / 2
            for i in lo..<hi { gy[i] = y[i] > 0 ? gy[i] : 0 }
        }
        return gy
    }
}

/// Dropout (PyTorch `nn.Dropout(p)`): in training each element is kept with probability 1 − p
/// and scaled by 1/(1 − p) (inverted dropout); in eval mode it is the identity. The mask is drawn
/// from the caller's `SeededGenerator`, one `nextFloat()` per element in order.
public final class Dropout: Layer {
    public let p: Float
    private let output = FloatBuffer(), mask = FloatBuffer()
    private var wasTraining = false

    public init(name: String, shape: [Int], p: Float) throws {
        guard p >= 0, p <= 1 else { throw SeafoldError.config(key: name, reason: "dropout probability \(p) must be in [0, 1]") }
        self.p = p
        super.init(name: name, inShape: shape, outShape: shape)
    }

    override func forward(_ x: UnsafeMutablePointer<Float>, batch: Int, training: Bool,
                          rng: inout SeededGenerator) -> UnsafeMutablePointer<Float> {
        wasTraining = training && p > 0
        if !wasTraining { return x }
        let n = batch * inCount
        output.ensure(n); mask.ensure(n)
        let keep = 1 - p, scale: Float = p >= 1 ? 0 : 1 / (1 - p)
        let m = mask.ptr, out = output.ptr
        for i in 0..<n {
            let mv: Float = rng.nextFloat() < keep ? scale : 0
            m[i] = mv
            out[i] = x[i] * mv
        }
        return out
    }

    override func backward(_ gy: UnsafeMutablePointer<Float>, batch: Int, inputGrad: Bool) -> UnsafeMutablePointer<Float> {
        if !wasTraining || !inputGrad { return gy }
        let m = mask.ptr
        for i in 0..<(batch * inCount) { gy[i] *= m[i] }
        return gy
    }
}

/// Flattens [C, H, W] to [C·H·W] per sample (`torch.flatten(x, 1)`); free in NCHW layout.
public final class Flatten: Layer {
    public init(name: String, inShape: [Int]) {
        super.init(name: name, inShape: inShape, outShape: [inShape.reduce(1, *)])
    }
    override func forward(_ x: UnsafeMutablePointer<Float>, batch: Int, training: Bool,
                          rng: inout SeededGenerator) -> UnsafeMutablePointer<Float> { x }
    override func backward(_ gy: UnsafeMutablePointer<Float>, batch: Int, inputGrad: Bool) -> UnsafeMutablePointer<Float> { gy }
}

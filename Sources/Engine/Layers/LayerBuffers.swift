import SeafoldCore

/// A layer's passes on caller-owned buffers, without the copies of the `Tensor` entry points:
/// for code outside the engine that times one layer alone. The returned pointer is the layer's
/// own buffer, valid until its next pass.
extension Layer {
    /// Floats of one sample's input and output.
    public var inputCount: Int { inCount }
    public var outputCount: Int { outCount }

    /// The forward pass over `batch` samples at `x` (`batch × inputCount` floats).
    public func forward(buffer x: UnsafeMutablePointer<Float>, batch: Int, training: Bool,
                        rng: inout SeededGenerator) -> UnsafeMutablePointer<Float> {
        forward(x, batch: batch, training: training, rng: &rng)
    }

    /// The backward pass of the last forward (`batch × outputCount` floats of output gradient).
    public func backward(buffer gy: UnsafeMutablePointer<Float>, batch: Int, inputGrad: Bool) -> UnsafeMutablePointer<Float> {
        backward(gy, batch: batch, inputGrad: inputGrad)
    }
}

/// A convolution's geometry as its im2col GEMM sees it, and which fast path it has.
extension Conv2d {
    /// K of the im2col GEMM: Cin·k².
    public var taps: Int { kDim }
    /// Output pixels per sample (Hout·Wout): N of the im2col GEMM per sample.
    public var outputPixels: Int { hw }
    /// Input and output height (the layers are square).
    public var inputSize: Int { inH }
    public var outputSize: Int { outH }
    /// FLOPs of one forward pass for one sample (the direct convolution's count).
    public var flopsPerSample: Int { forwardFlops }
    /// Whether the geometry allows Winograd or the implicit-GEMM forward (`ConvAlgorithm.fast`
    /// then differs from im2col for this layer).
    public var hasFastPath: Bool { usesWinogradGeometry || usesImplicitGeometry }
    /// The algorithm `ConvAlgorithm.fast` runs for this layer's forward pass at `batch`, by name.
    public func fastPathLabel(batch: Int) -> String { fastPathName(batch: batch) }
    /// Re-initialises weight and bias as PyTorch's default init does.
    public func resetParameters(rng: inout SeededGenerator) { reset(rng: &rng) }
}

/// How the engine computes, chosen per network: held by each `Conv2d` and `Linear` (an
/// `AlexNet` hands its own to all of its layers), so two networks with different options can
/// run in one process. The defaults are the engine's normal behaviour; every setting computes
/// the same PyTorch operations (`nn.Conv2d`, `nn.Linear`), differing by float rounding only.
///
/// The thread count is not an option: it is a process resource (`BLASKernel.setThreads`) and,
/// by construction, never changes a result.
public struct EngineOptions: Sendable, Equatable {
    /// The convolution algorithms `Conv2d` may use. Default `.fast` (Winograd and implicit GEMM
    /// where they apply, im2col + GEMM elsewhere).
    public var convolution: ConvAlgorithm
    /// Whether large `Linear` layers leave their weight gradient as low-rank factors at small
    /// batches, for Adam to expand on the fly (`LowRankGradient`). Default on; off writes the
    /// dense sgemm gradient. Both give the same bytes.
    public var deferredWeightGradients: Bool
    /// Upper bound on a convolution's im2col buffer (floats) before the batch is cut into
    /// chunks. Tests lower it to exercise the chunked paths; results do not depend on it.
    var maxColumnFloats = 8 << 20

    public init(convolution: ConvAlgorithm = .fast, deferredWeightGradients: Bool = true) {
        self.convolution = convolution
        self.deferredWeightGradients = deferredWeightGradients
    }

    /// The engine's normal behaviour.
    public static let `default` = EngineOptions()
}

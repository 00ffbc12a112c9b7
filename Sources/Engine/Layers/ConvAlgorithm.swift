/// Which convolution algorithms `Conv2d` may use (`EngineOptions.convolution`), so
/// the algorithms can be compared and tested against each other; every setting computes the same convolution (PyTorch
/// `nn.Conv2d`), differing by rounding only.
public enum ConvAlgorithm: String, CaseIterable, Codable, Sendable {
    /// im2col + GEMM everywhere.
    case im2col
    /// Winograd F(2×2, 3×3) for stride-1 3×3 layers, im2col elsewhere: the engine before
    /// `WinogradTiled` and implicit GEMM, kept for before/after figures.
    case winogradF23 = "winograd-F(2,3)"
    /// The default: Winograd F(2×2, 3×3) for stride-1 3×3 layers (F(5×5, 3×3) forward from
    /// batch 32), F(3×3, 5×5) for stride-1 5×5 layers (forward and backward-data),
    /// implicit-GEMM forward where that applies (features.0), im2col for the rest.
    case fast

    /// Any Winograd at all (else im2col / implicit GEMM only).
    var allowsWinograd: Bool { self != .im2col }
    /// The large-tile Winograd variants (`WinogradTiled`).
    var allowsLargeTiles: Bool { self == .fast }
    /// The implicit-GEMM forward (`ImplicitConvForward`).
    var allowsImplicitGEMM: Bool { self == .fast }
}

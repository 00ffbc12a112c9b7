/// Which convolution algorithms `Conv2d` may use, for benchmarks and comparisons. Set before
/// running (it changes the static switches `Conv2d.forceDirect`, `Conv2d.winogradLargeTiles` and
/// `ImplicitConvForward.enabled`); every setting computes the same convolution, differing by
/// rounding only.
public enum ConvAlgorithm: String, CaseIterable, Codable, Sendable {
    /// im2col + GEMM everywhere (`SEAFOLD_CONV_DIRECT=1`).
    case im2col
    /// Winograd F(2×2, 3×3) for stride-1 3×3 layers, im2col elsewhere: the engine before
    /// `WinogradTiled` and implicit GEMM, kept for before/after figures.
    case winogradF23 = "winograd-F(2,3)"
    /// The default: Winograd F(2×2, 3×3) for stride-1 3×3 layers (F(5×5, 3×3) forward from
    /// batch 32), F(3×3, 5×5) for stride-1 5×5 layers (forward and backward-data),
    /// implicit-GEMM forward where that applies (features.0), im2col for the rest.
    case fast

    /// The setting the switches currently select.
    public static var current: ConvAlgorithm {
        Conv2d.forceDirect ? .im2col : Conv2d.winogradLargeTiles && ImplicitConvForward.enabled ? .fast : .winogradF23
    }

    /// Selects this setting; returns the previous one (pass it to `select` to restore).
    @discardableResult
    public func select() -> ConvAlgorithm {
        let previous = ConvAlgorithm.current
        Conv2d.forceDirect = self == .im2col
        Conv2d.winogradLargeTiles = self == .fast
        ImplicitConvForward.enabled = self == .fast
        return previous
    }
}

/// Which convolution algorithms `Conv2d` may use, for benchmarks and comparisons. Set before
/// running (it changes the static switches `Conv2d.forceDirect` and `Conv2d.winograd5x5`).
public enum ConvAlgorithm: String, CaseIterable, Codable, Sendable {
    /// im2col + GEMM everywhere (`SEAFOLD_CONV_DIRECT=1`).
    case im2col
    /// Winograd F(2×2, 3×3) for stride-1 3×3 layers, im2col elsewhere (the default until
    /// F(3×3, 5×5) was added).
    case winograd2x2 = "winograd-2x2"
    /// The default: F(2×2, 3×3) for stride-1 3×3 layers and F(3×3, 5×5) for stride-1 5×5
    /// layers (forward and backward-data), im2col elsewhere.
    case winograd

    /// The algorithm the switches currently select.
    public static var current: ConvAlgorithm {
        Conv2d.forceDirect ? .im2col : Conv2d.winograd5x5 ? .winograd : .winograd2x2
    }

    /// Selects this algorithm; returns the previous one (pass it to `select` to restore).
    @discardableResult
    public func select() -> ConvAlgorithm {
        let previous = ConvAlgorithm.current
        Conv2d.forceDirect = self == .im2col
        Conv2d.winograd5x5 = self == .winograd
        return previous
    }
}

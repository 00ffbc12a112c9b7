import SeafoldCore

/// The shape of an AlexNet (torchvision layer list) and its scaled variants for fast presets.
///
/// `widthMultiplier` scales the five conv layers' channels (64, 192, 384, 256, 256; rounded,
/// at least 1); `hiddenWidth` is the width of classifier.1/classifier.4 (the "4096-d
/// penultimate features"); `inputSize` is the square input side, 63 px or more (below that the
/// third max-pool has nothing to pool). The defaults are torchvision's AlexNet.
public struct AlexNetConfig: Codable, Equatable, Sendable {
    public var numClasses: Int
    public var widthMultiplier: Double
    public var inputSize: Int
    public var hiddenWidth: Int
    public var dropout: Float

    public init(numClasses: Int, widthMultiplier: Double = 1, inputSize: Int = 224,
                hiddenWidth: Int = 4096, dropout: Float = 0.5) {
        self.numClasses = numClasses
        self.widthMultiplier = widthMultiplier
        self.inputSize = inputSize
        self.hiddenWidth = hiddenWidth
        self.dropout = dropout
    }

    enum CodingKeys: String, CodingKey { case numClasses, widthMultiplier, inputSize, hiddenWidth, dropout }

    /// Missing keys take the defaults, so `{numClasses: 3}` is a valid config.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        numClasses = try c.decode(Int.self, forKey: .numClasses)
        widthMultiplier = try c.decodeIfPresent(Double.self, forKey: .widthMultiplier) ?? 1
        inputSize = try c.decodeIfPresent(Int.self, forKey: .inputSize) ?? 224
        hiddenWidth = try c.decodeIfPresent(Int.self, forKey: .hiddenWidth) ?? 4096
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? 0.5
    }

    /// torchvision's conv widths.
    public static let baseChannels = [64, 192, 384, 256, 256]
    /// The smallest input side the layer list accepts.
    public static let minimumInputSize = 63

    /// Conv output channels of features.0/3/6/8/10 after the width multiplier.
    public var channels: [Int] {
        AlexNetConfig.baseChannels.map { max(1, Int((Double($0) * widthMultiplier).rounded())) }
    }

    /// Throws a `SeafoldError.config` naming the field when the network cannot be built.
    public func validate() throws {
        guard numClasses >= 1 else { throw SeafoldError.config(key: "numClasses", reason: "must be at least 1, got \(numClasses)") }
        guard widthMultiplier > 0, widthMultiplier.isFinite, widthMultiplier <= 16 else {
            throw SeafoldError.config(key: "widthMultiplier", reason: "must be in (0, 16], got \(widthMultiplier)")
        }
        guard inputSize >= AlexNetConfig.minimumInputSize, inputSize <= 4096 else {
            throw SeafoldError.config(key: "inputSize", reason: "must be between \(AlexNetConfig.minimumInputSize) and 4096 pixels, got \(inputSize)")
        }
        guard hiddenWidth >= 1 else { throw SeafoldError.config(key: "hiddenWidth", reason: "must be at least 1, got \(hiddenWidth)") }
        guard dropout >= 0, dropout < 1 else { throw SeafoldError.config(key: "dropout", reason: "must be in [0, 1), got \(dropout)") }
    }
}

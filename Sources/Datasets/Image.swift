import Foundation
import SeafoldCore

/// A decoded image: `height × width × channels` samples in HWC order (row-major, channels last).
///
/// `channels` is 1 (grey) or 3 (RGB). Values are `Float`, scaled as documented in
/// `ImageLoader` (8-bit ÷ 255, 16-bit ÷ 65535, so [0, 1]; float TIFF and float .npy by the
/// chosen `FloatScaling`). Alpha channels are dropped on load.
public struct Image: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A constant image (handy for tests and placeholders).
    public init(width: Int, height: Int, channels: Int = 1, fill: Float) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [Float](repeating: fill, count: width * height * channels))
    }

    /// The sample at row `y`, column `x`, channel `c`.
    @inline(__always) public subscript(y: Int, x: Int, c: Int) -> Float {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }

    /// This image with three channels (a grey image replicated; RGB returned unchanged).
    public func rgb() -> Image {
        if channels == 3 { return self }
        var out = [Float](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            let v = pixels[i * channels]
            out[3 * i] = v; out[3 * i + 1] = v; out[3 * i + 2] = v
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// Checks the invariants a caller-built image must satisfy (shape matches storage).
    public func validate(source: String = "<image>") throws {
        guard width > 0, height > 0 else {
            throw SeafoldError.badInput(path: source, reason: "image is \(width)×\(height); both sides must be positive")
        }
        guard channels == 1 || channels == 3 else {
            throw SeafoldError.badInput(path: source, reason: "image has \(channels) channels; only 1 (grey) or 3 (RGB) are supported")
        }
        guard pixels.count == width * height * channels else {
            throw SeafoldError.badInput(path: source, reason: "\(width)×\(height)×\(channels) image holds \(pixels.count) samples")
        }
    }
}

/// What the file on disk held, before scaling (for `seafold data inspect`).
public struct ImageInfo: Equatable, Sendable, Codable {
    public var width: Int
    public var height: Int
    /// Channels after dropping alpha (1 or 3).
    public var channels: Int
    /// Bits per sample in the file (8 or 16 for PNG; 8, 16 or 32 (float) for TIFF; 8 for JPEG;
    /// 8, 16 or 32/64 for .npy uint8/uint16/float).
    public var bitDepth: Int
    /// "png", "tiff", "tiff:float32", "jpeg" or "npy:<dtype>".
    public var format: String
    public var hadAlpha: Bool
}

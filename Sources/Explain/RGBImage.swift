import SeafoldCore

/// An RGB image as the explainer sees it: HWC layout, 3 channels, values in [0, 1].
///
/// Explain's own image type (the module imports only SeafoldCore). A grayscale image is
/// replicated to three channels, as lime does with `skimage.color.gray2rgb` before segmenting.
public struct RGBImage: Codable, Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// Row-major HWC: pixel (r, c) channel k is at `(r * width + c) * 3 + k`.
    public var pixels: [Float]

    public var pixelCount: Int { width * height }

    /// Wraps an HWC buffer; throws when the sizes disagree.
    public init(width: Int, height: Int, pixels: [Float]) throws {
        guard width > 0, height > 0 else {
            throw SeafoldError.badInput(path: "RGBImage", reason: "width \(width) and height \(height) must both be positive")
        }
        guard pixels.count == width * height * 3 else {
            throw SeafoldError.mismatch(what: "RGBImage pixel count (\(width)x\(height)x3)",
                                        expected: "\(width * height * 3)", found: "\(pixels.count)")
        }
        guard pixels.allSatisfy({ $0.isFinite }) else {
            throw SeafoldError.badInput(path: "RGBImage", reason: "pixel values must be finite (NaN or infinity found)")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Internal unchecked initialiser for buffers built by this module.
    init(uncheckedWidth width: Int, height: Int, pixels: [Float]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A grayscale (HW, one channel) image replicated to three channels (lime's gray2rgb).
    public init(grayscale: [Float], width: Int, height: Int) throws {
        guard grayscale.count == width * height else {
            throw SeafoldError.mismatch(what: "grayscale pixel count (\(width)x\(height))",
                                        expected: "\(width * height)", found: "\(grayscale.count)")
        }
        var p = [Float](repeating: 0, count: grayscale.count * 3)
        for i in 0..<grayscale.count {
            p[3 * i] = grayscale[i]; p[3 * i + 1] = grayscale[i]; p[3 * i + 2] = grayscale[i]
        }
        try self.init(width: width, height: height, pixels: p)
    }

    /// HWC data with 1 or 3 channels (e.g. a Datasets `Image`'s fields); 1 channel is replicated.
    public init(width: Int, height: Int, channels: Int, pixels: [Float]) throws {
        switch channels {
        case 1: try self.init(grayscale: pixels, width: width, height: height)
        case 3: try self.init(width: width, height: height, pixels: pixels)
        default:
            throw SeafoldError.badInput(path: "RGBImage", reason: "\(channels) channels; only 1 (grayscale) or 3 (RGB) are supported")
        }
    }

    /// The three channel values of pixel `i` (raster index).
    public func pixel(_ i: Int) -> (Float, Float, Float) {
        (pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2])
    }
}

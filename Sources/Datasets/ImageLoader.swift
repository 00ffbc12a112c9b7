import Foundation
import SeafoldCore

/// How float .npy images are mapped to the [0, 1] range the rest of the pipeline expects.
///
/// SAS magnitude images stored as float have arbitrary units and a long bright tail, so the
/// default is a per-image percentile stretch: the `low`-th percentile maps to 0, the `high`-th
/// to 1, values outside are clamped (percentiles by linear interpolation between sorted
/// values, NumPy's default). `.none` keeps the stored values unchanged.
public enum FloatScaling: Equatable, Sendable {
    case percentile(low: Double, high: Double)
    case none

    public static let standard = FloatScaling.percentile(low: 1, high: 99)

    /// Parses "none", "percentile" (1–99) or "percentile:LOW:HIGH".
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: ":").map(String.init)
        if parts == ["none"] { self = .none; return }
        if parts.first == "percentile" {
            if parts.count == 1 { self = .standard; return }
            if parts.count == 3, let lo = Double(parts[1]), let hi = Double(parts[2]), 0 <= lo, lo < hi, hi <= 100 {
                self = .percentile(low: lo, high: hi); return
            }
        }
        throw SeafoldError.config(key: "float-scaling", reason: "'\(text)' is not 'none', 'percentile' or 'percentile:LOW:HIGH' with 0 ≤ LOW < HIGH ≤ 100")
    }
}

/// Loads PNG, TIFF, JPEG and .npy images into `Image`.
///
/// Scaling (documented contract): 8-bit PNG/TIFF/JPEG and uint8 .npy ÷ 255; 16-bit PNG/TIFF and
/// uint16 .npy ÷ 65535 (so 16-bit dynamic range is kept, not squeezed to 8 bits); 32-bit float
/// TIFF and float32/float64 .npy by `FloatScaling` (default per-image 1st–99th percentile to
/// [0, 1]). TIFF/JPEG specifics: `TIFFJPEGCodec`. .npy shapes: `[H, W]`,
/// `[H, W, 1]`, `[H, W, 3]` or `[H, W, 4]` (alpha dropped). Every failure is a `SeafoldError`
/// naming the file.
public enum ImageLoader {
    /// File extensions (lower case) that `ImageFolder` treats as images.
    public static let extensions: Set<String> = ["png", "npy", "tif", "tiff", "jpg", "jpeg"]

    /// The supported types as users write them (error messages, help texts).
    public static let extensionsText = ".png, .tif/.tiff, .jpg/.jpeg or .npy"

    public static func load(_ url: URL) throws -> Image {
        try load(url, floatScaling: .standard)
    }

    public static func load(_ url: URL, floatScaling: FloatScaling) throws -> Image {
        try loadWithInfo(url, floatScaling: floatScaling).image
    }

    /// The image and what the file held (bit depth, format, alpha).
    public static func loadWithInfo(_ url: URL, floatScaling: FloatScaling = .standard) throws -> (image: Image, info: ImageInfo) {
        switch url.pathExtension.lowercased() {
        case "png": return try PNGCodec.read(url)
        case "npy": return try loadNpy(url, floatScaling: floatScaling)
        case "tif", "tiff": return try TIFFJPEGCodec.read(url, .tiff, floatScaling: floatScaling)
        case "jpg", "jpeg": return try TIFFJPEGCodec.read(url, .jpeg, floatScaling: floatScaling)
        default:
            throw SeafoldError.badInput(path: url.path, reason: "unsupported image type '.\(url.pathExtension)'; use \(extensionsText)")
        }
    }

    static func loadNpy(_ url: URL, floatScaling: FloatScaling) throws -> (image: Image, info: ImageInfo) {
        let arr = try NpyArray.read(from: url)
        let s = arr.shape
        let h: Int, w: Int, stored: Int
        switch s.count {
        case 2: h = s[0]; w = s[1]; stored = 1
        case 3 where [1, 3, 4].contains(s[2]): h = s[0]; w = s[1]; stored = s[2]
        default:
            throw SeafoldError.badInput(path: url.path, reason: "array shape \(s) is not an image; use [H, W] or [H, W, C] with C = 1, 3 or 4")
        }
        guard h > 0, w > 0 else { throw SeafoldError.badInput(path: url.path, reason: "array shape \(s) has an empty side") }
        guard h * w * stored <= 1 << 28 else { throw SeafoldError.badInput(path: url.path, reason: "array shape \(s) is too large to load") }
        let depth: Int
        var values = arr.floats()
        switch arr.dtype {
        case .uint8: depth = 8; for i in values.indices { values[i] /= 255 }
        case .uint16: depth = 16; for i in values.indices { values[i] /= 65535 }
        case .float32, .float64:
            depth = arr.dtype == .float32 ? 32 : 64
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw SeafoldError.badInput(path: url.path, reason: "element \(bad) is \(values[bad]); images must be finite (replace NaN/inf before saving)")
            }
        default:
            throw SeafoldError.badInput(path: url.path, reason: "unsupported image dtype \(arr.dtype) (bit depth); use float32, uint8 or uint16")
        }
        let keep = stored == 1 ? 1 : 3
        var px: [Float]
        if keep == stored { px = values } else {
            px = [Float](repeating: 0, count: h * w * keep)
            for i in 0..<(h * w) { for c in 0..<keep { px[i * keep + c] = values[i * stored + c] } }
        }
        if depth >= 32 { px = scale(px, floatScaling) }
        let info = ImageInfo(width: w, height: h, channels: keep, bitDepth: depth,
                             format: "npy:\(arr.dtype)", hadAlpha: stored == 4)
        return (Image(width: w, height: h, channels: keep, pixels: px), info)
    }

    /// Applies `FloatScaling` to one image's samples (all channels together).
    public static func scale(_ values: [Float], _ scaling: FloatScaling) -> [Float] {
        guard case let .percentile(lo, hi) = scaling, !values.isEmpty else { return values }
        let sorted = values.sorted()
        let a = percentile(sorted, lo), b = percentile(sorted, hi)
        guard b > a else { return [Float](repeating: 0, count: values.count) }  // constant image
        // In Double: with Float, a span of denormals made 1/(b-a) infinite and a span near
        // ±Float.greatestFiniteMagnitude overflowed, both giving NaN pixels (found by fuzz-png).
        let base = Double(a), inv = 1 / (Double(b) - Double(a))
        return values.map { Float(min(max((Double($0) - base) * inv, 0), 1)) }
    }

    /// NumPy's default ('linear') percentile of already sorted values.
    public static func percentile(_ sorted: [Float], _ q: Double) -> Float {
        let pos = q / 100 * Double(sorted.count - 1)
        let i = Int(pos.rounded(.down))
        let j = min(i + 1, sorted.count - 1)
        let f = pos - Double(i)
        return Float(Double(sorted[i]) + (Double(sorted[j]) - Double(sorted[i])) * f)
    }

    /// Header facts without decoding pixels (PNG, TIFF, JPEG), or from the array (.npy).
    public static func probe(_ url: URL) throws -> ImageInfo {
        switch url.pathExtension.lowercased() {
        case "png": return try PNGCodec.probe(url)
        case "tif", "tiff": return try TIFFJPEGCodec.probe(url, .tiff)
        case "jpg", "jpeg": return try TIFFJPEGCodec.probe(url, .jpeg)
        default: break
        }
        return try loadWithInfo(url, floatScaling: .none).info
    }
}

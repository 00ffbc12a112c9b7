import CImageCodecs
import Foundation
import SeafoldCore

/// Refuse absurd headers before allocating (256 M samples ≈ 1 GiB of Float), as for PNG.
private let maxSamples = 1 << 28

/// TIFF and JPEG decoding through libtiff and libjpeg(-turbo), via the C shim `CImageCodecs`
/// (libjpeg's fatal errors longjmp back into C, never `exit()`; neither library prints).
///
/// Scaling follows `ImageLoader`'s contract: 8-bit samples ÷ 255, 16-bit ÷ 65535 (as for PNG;
/// min-is-white grey is flipped first), 32-bit float TIFF by `FloatScaling` like float .npy
/// (default per-image 1st–99th percentile stretch to [0, 1]; `none` keeps the stored values).
/// JPEG decodes with libjpeg's defaults (integer IDCT, fancy upsampling) — what Pillow does.
/// A TIFF's first page is read; a file with more than one full-resolution page is an error
/// (reduced-resolution pages, e.g. thumbnails, are ignored).
enum TIFFJPEGCodec {
    enum Format: String { case tiff = "TIFF", jpeg = "JPEG" }

    static func probe(_ url: URL, _ format: Format) throws -> ImageInfo {
        try decode(url, format, headerOnly: true, floatScaling: .none).info
    }

    static func read(_ url: URL, _ format: Format, floatScaling: FloatScaling) throws -> (Image, ImageInfo) {
        let r = try decode(url, format, headerOnly: false, floatScaling: floatScaling)
        return (r.image!, r.info)
    }

    private static func decode(_ url: URL, _ format: Format, headerOnly: Bool, floatScaling: FloatScaling) throws -> (image: Image?, info: ImageInfo) {
        var d = seafold_decoded_image()
        let status = url.withUnsafeFileSystemRepresentation { path -> Int32 in
            guard let path else { return Int32(SEAFOLD_DECODE_UNREADABLE) }
            switch format {
            case .tiff: return seafold_tiff_read(path, maxSamples, headerOnly ? 1 : 0, &d)
            case .jpeg: return seafold_jpeg_read(path, maxSamples, headerOnly ? 1 : 0, &d)
            }
        }
        defer { seafold_decoded_image_free(&d) }
        let text = withUnsafeBytes(of: &d.message) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        switch Int(status) {
        case Int(SEAFOLD_DECODE_OK): break
        case Int(SEAFOLD_DECODE_UNSUPPORTED):
            throw SeafoldError.badInput(path: url.path, reason: "\(format.rawValue) \(text)")
        case Int(SEAFOLD_DECODE_TOO_LARGE):
            throw SeafoldError.badInput(path: url.path, reason: "\(format.rawValue) \(text)")
        default:
            throw SeafoldError.badInput(path: url.path, reason: "not a readable \(format.rawValue) (truncated or corrupt?): \(text)")
        }
        if format == .tiff, d.pages > 1 {
            throw SeafoldError.badInput(path: url.path, reason: "multi-page TIFF (\(d.pages) full-resolution pages); seafold reads one image per file: split the pages (e.g. `tiffsplit`) into separate files")
        }
        let w = Int(d.width), h = Int(d.height), c = Int(d.channels)
        let isFloat = d.sample_type == Int32(SEAFOLD_SAMPLE_F32)
        let info = ImageInfo(width: w, height: h, channels: c, bitDepth: Int(d.bits_per_sample),
                             format: format == .tiff ? (isFloat ? "tiff:float32" : "tiff") : "jpeg", hadAlpha: d.had_alpha != 0)
        if headerOnly { return (nil, info) }
        guard let raw = d.data else {
            throw SeafoldError.badInput(path: url.path, reason: "\(format.rawValue) decoder returned no pixels")
        }
        let n = w * h * c
        var px = [Float](repeating: 0, count: n)
        px.withUnsafeMutableBufferPointer { dst in
            switch Int(d.sample_type) {
            case Int(SEAFOLD_SAMPLE_U8):
                let s = raw.assumingMemoryBound(to: UInt8.self)
                let k: Float = 1 / 255  // the same arithmetic as PNG
                for i in 0..<n { dst[i] = Float(s[i]) * k }
            case Int(SEAFOLD_SAMPLE_U16):
                let s = raw.assumingMemoryBound(to: UInt16.self)
                let k: Float = 1 / 65535
                for i in 0..<n { dst[i] = Float(s[i]) * k }
            default:
                let s = raw.assumingMemoryBound(to: Float.self)
                for i in 0..<n { dst[i] = s[i] }
            }
        }
        if isFloat {
            if let bad = px.firstIndex(where: { !$0.isFinite }) {
                throw SeafoldError.badInput(path: url.path, reason: "sample \(bad) is \(px[bad]); float images must be finite (replace NaN/inf before saving)")
            }
            px = ImageLoader.scale(px, floatScaling)
        }
        return (Image(width: w, height: h, channels: c, pixels: px), info)
    }
}

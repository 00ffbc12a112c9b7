import CPNG
import Foundation
import SeafoldCore

// libpng's simplified API (png_image_*) reports errors by returning 0 and leaving text in
// `image.message`; it never longjmps into Swift, which cannot survive setjmp/longjmp.
private let formatAlpha: UInt32 = 0x01
private let formatColor: UInt32 = 0x02
private let formatLinear: UInt32 = 0x04
private let formatColormap: UInt32 = 0x08
/// Refuse absurd headers before allocating (256 M samples ≈ 1 GiB of Float).
private let maxSamples = 1 << 28

private func message(_ image: inout png_image) -> String {
    withUnsafeBytes(of: &image.message) { raw in
        let bytes = raw.prefix(while: { $0 != 0 })
        return String(decoding: bytes, as: UTF8.self)
    }
}

private func freshImage() -> png_image {
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    return image
}

/// PNG decoding through libpng's simplified API.
///
/// 8-bit files (and palette / 1-, 2-, 4-bit files, which libpng expands) are read as 8-bit
/// sRGB-coded samples and divided by 255; 16-bit files are read with libpng's linear 16-bit
/// format (no gamma change for files without a gAMA chunk) and divided by 65535, so their full
/// dynamic range survives. Alpha is read (to stop libpng compositing) and then dropped; note
/// that libpng premultiplies 16-bit colour by alpha, which only matters for non-opaque pixels.
enum PNGCodec {
    static func probe(_ url: URL) throws -> ImageInfo {
        var image = freshImage()
        guard png_image_begin_read_from_file(&image, url.path) != 0 else {
            throw SeafoldError.badInput(path: url.path, reason: "not a readable PNG: \(message(&image))")
        }
        defer { png_image_free(&image) }
        let f = image.format
        let color = (f & formatColor) != 0 || (f & formatColormap) != 0
        return ImageInfo(width: Int(image.width), height: Int(image.height), channels: color ? 3 : 1,
                         bitDepth: (f & formatLinear) != 0 ? 16 : 8, format: "png",
                         hadAlpha: (f & formatAlpha) != 0)
    }

    static func read(_ url: URL) throws -> (Image, ImageInfo) {
        var image = freshImage()
        guard png_image_begin_read_from_file(&image, url.path) != 0 else {
            throw SeafoldError.badInput(path: url.path, reason: "not a readable PNG: \(message(&image))")
        }
        let f = image.format
        let sixteen = (f & formatLinear) != 0
        let color = (f & formatColor) != 0 || (f & formatColormap) != 0
        let alpha = (f & formatAlpha) != 0
        // Ask for the file's own layout (palette expanded), so libpng converts nothing else.
        image.format = (sixteen ? formatLinear : 0) | (color ? formatColor : 0) | (alpha ? formatAlpha : 0)
        let w = Int(image.width), h = Int(image.height)
        let comps = (color ? 3 : 1) + (alpha ? 1 : 0)
        let (samples, overflow) = (w * h).multipliedReportingOverflow(by: comps)
        guard w > 0, h > 0, !overflow, samples <= maxSamples else {
            png_image_free(&image)
            throw SeafoldError.badInput(path: url.path, reason: "PNG header claims \(w)×\(h)×\(comps) samples; too large to load")
        }
        let stride = Int32(w * comps)  // counted in samples, not bytes
        let outChannels = color ? 3 : 1
        var out = [Float](repeating: 0, count: w * h * outChannels)
        var ok: Int32 = 0
        if sixteen {
            var buf = [UInt16](repeating: 0, count: samples)
            ok = buf.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, stride, nil) }
            if ok != 0 { convert(buf, into: &out, comps: comps, keep: outChannels, scale: 1 / 65535) }
        } else {
            var buf = [UInt8](repeating: 0, count: samples)
            ok = buf.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, stride, nil) }
            if ok != 0 { convert(buf, into: &out, comps: comps, keep: outChannels, scale: 1 / 255) }
        }
        guard ok != 0 else {
            // finish_read frees the image itself on failure.
            throw SeafoldError.badInput(path: url.path, reason: "cannot decode PNG (truncated or corrupt?): \(message(&image))")
        }
        let info = ImageInfo(width: w, height: h, channels: outChannels, bitDepth: sixteen ? 16 : 8,
                             format: "png", hadAlpha: alpha)
        return (Image(width: w, height: h, channels: outChannels, pixels: out), info)
    }

    private static func convert<T: BinaryInteger>(_ buf: [T], into out: inout [Float], comps: Int, keep: Int, scale: Float) {
        let n = out.count / keep
        buf.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    for c in 0..<keep { dst[i * keep + c] = Float(src[i * comps + c]) * scale }
                }
            }
        }
    }

    static func write16(_ gray: [UInt16], width: Int, height: Int, channels: Int, to url: URL) throws {
        var image = freshImage()
        image.width = UInt32(width); image.height = UInt32(height)
        image.format = formatLinear | (channels >= 3 ? formatColor : 0) | (channels % 2 == 0 ? formatAlpha : 0)
        let ok = gray.withUnsafeBytes { png_image_write_to_file(&image, url.path, 0, $0.baseAddress, Int32(width * channels), nil) }
        guard ok != 0 else { throw SeafoldError.io(path: url.path, reason: "cannot write PNG: \(message(&image))") }
    }

    static func write8(_ bytes: [UInt8], width: Int, height: Int, channels: Int, to url: URL) throws {
        var image = freshImage()
        image.width = UInt32(width); image.height = UInt32(height)
        image.format = (channels >= 3 ? formatColor : 0) | (channels % 2 == 0 ? formatAlpha : 0)
        let ok = bytes.withUnsafeBytes { png_image_write_to_file(&image, url.path, 0, $0.baseAddress, Int32(width * channels), nil) }
        guard ok != 0 else { throw SeafoldError.io(path: url.path, reason: "cannot write PNG: \(message(&image))") }
    }
}

/// Writes images as PNG through libpng's simplified API.
///
/// Samples are clamped to [0, 1] and rounded to the nearest level (×255 or ×65535), the exact
/// inverse of `ImageLoader`'s scaling, so a 16-bit round trip is lossless for values already
/// on the 16-bit grid.
public enum PNGWriter {
    /// Writes a grey or RGB image at `bitDepth` 8 or 16.
    public static func write(_ image: Image, to url: URL, bitDepth: Int = 16) throws {
        try image.validate(source: url.path)
        switch bitDepth {
        case 8:
            let b = image.pixels.map { UInt8((min(max($0, 0), 1) * 255).rounded()) }
            try PNGCodec.write8(b, width: image.width, height: image.height, channels: image.channels, to: url)
        case 16:
            let s = image.pixels.map { UInt16((min(max($0, 0), 1) * 65535).rounded()) }
            try PNGCodec.write16(s, width: image.width, height: image.height, channels: image.channels, to: url)
        default:
            throw SeafoldError.config(key: "bitDepth", reason: "PNG bit depth \(bitDepth) is not supported; use 8 or 16")
        }
    }

    /// Writes an 8-bit RGB buffer (HWC, `width*height*3` bytes), e.g. a figure or contact sheet.
    public static func writeRGB8(width: Int, height: Int, rgb: [UInt8], to url: URL) throws {
        guard width > 0, height > 0, rgb.count == width * height * 3 else {
            throw SeafoldError.badInput(path: url.path, reason: "RGB buffer holds \(rgb.count) bytes; \(width)×\(height)×3 needs \(width * height * 3)")
        }
        try PNGCodec.write8(rgb, width: width, height: height, channels: 3, to: url)
    }

    /// Writes an 8-bit grey buffer (`width*height` bytes), e.g. an evidence mask.
    public static func writeGray8(width: Int, height: Int, gray: [UInt8], to url: URL) throws {
        guard width > 0, height > 0, gray.count == width * height else {
            throw SeafoldError.badInput(path: url.path, reason: "grey buffer holds \(gray.count) bytes; \(width)×\(height) needs \(width * height)")
        }
        try PNGCodec.write8(gray, width: width, height: height, channels: 1, to: url)
    }
}

import SeafoldCore

/// The per-pixel work between a dataset pack's stored images and the network's inputs: the
/// pack's uint16 quantisation (x·65535 for x in [0, 1]), ImageNet normalisation as torchvision's
/// `ToTensor` + `Normalize(mean, std)` (grey replicated to RGB), the pretraining source's 8-bit
/// grey and nearest-neighbour resizes. It lives in this optimised domain module because the
/// orchestration code that calls it (Pipeline) is compiled without optimisation. Every
/// expression keeps its original order of operations, so results are bit-identical.
public enum PackPixels {
    static let mean = Preprocessor.imagenetMean
    static let std = Preprocessor.imagenetStd

    /// The little-endian uint16 values of an .npy payload.
    public static func uint16(_ bytes: [UInt8], count: Int) -> [UInt16] {
        bytes.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self) } }
    }

    /// Stores `image` (already at the pack's size, values clamped to [0, 1]) as uint16 planes of
    /// image `index` in `px` ([N, C, S, S]); `channels` is the pack's (1 or 3).
    public static func quantise(_ image: Image, index: Int, channels: Int, into px: inout [UInt16]) {
        let plane = image.width * image.height
        for c in 0..<channels {
            for p in 0..<plane {
                let v = min(max(image.pixels[p * image.channels + c], 0), 1)
                px[(index * channels + c) * plane + p] = UInt16((v * 65535).rounded())
            }
        }
    }

    /// Nearest-neighbour resize of an evidence mask (`width`×`height`, nonzero = evidence) to
    /// `size`×`size` 0/1 values at image `index` of `out`.
    public static func resizeMask(_ mask: [UInt8], width: Int, height: Int, size: Int, index: Int, into out: inout [UInt8]) {
        let plane = size * size
        for y in 0..<size {
            let sy = min(height - 1, y * height / size)
            for x in 0..<size {
                let sx = min(width - 1, x * width / size)
                out[index * plane + y * size + x] = mask[sy * width + sx] > 0 ? 1 : 0
            }
        }
    }

    /// Image `index` of a uint16 pack ([N, C, S, S], C = 1 or 3), normalised to 3·S·S floats.
    public static func normalised(_ pixels: [UInt16], index: Int, channels: Int, plane: Int, into out: UnsafeMutablePointer<Float>) {
        let base = index * channels * plane
        pixels.withUnsafeBufferPointer { px in
            for ch in 0..<3 {
                let src = base + (channels == 1 ? 0 : ch) * plane
                let m = mean[ch], s = 1 / std[ch]
                let dst = out + ch * plane
                for i in 0..<plane { dst[i] = (Float(px[src + i]) * (1 / 65535) - m) * s }
            }
        }
    }

    /// Image `index` of a uint16 pack in [0, 1] as interleaved RGB (H, W, 3), as LIME reads it.
    public static func rgb(_ pixels: [UInt16], index: Int, channels: Int, plane: Int) -> [Float] {
        let base = index * channels * plane
        var out = [Float](repeating: 0, count: plane * 3)
        for p in 0..<plane {
            for ch in 0..<3 {
                out[p * 3 + ch] = Float(pixels[base + (channels == 1 ? 0 : ch) * plane + p]) / 65535
            }
        }
        return out
    }

    /// An image (already at the target size) as one 8-bit grey plane: the channel mean,
    /// clamped to [0, 1], times 255, rounded.
    public static func grey8(_ image: Image, index: Int, into pixels: inout [UInt8]) {
        let plane = image.width * image.height
        for q in 0..<plane {
            var v: Float = 0
            for c in 0..<image.channels { v += image.pixels[q * image.channels + c] }
            pixels[index * plane + q] = UInt8((min(max(v / Float(image.channels), 0), 1) * 255).rounded())
        }
    }

    /// Images `indices` of 8-bit grey planes, normalised to an [N, 3, S, S] buffer.
    public static func normalisedGrey8(_ pixels: [UInt8], indices: [Int], plane: Int) -> [Float] {
        var data = [Float](repeating: 0, count: indices.count * 3 * plane)
        for (k, i) in indices.enumerated() {
            for c in 0..<3 {
                let m: Float = mean[c], sd: Float = 1 / std[c]
                let dst = (k * 3 + c) * plane, src = i * plane
                for q in 0..<plane {
                    let v = Float(pixels[src + q]) / 255
                    data[dst + q] = (v - m) * sd
                }
            }
        }
        return data
    }

    /// Interleaved RGB images in [0, 1] (H, W, 3 each), normalised to an [N, 3, S, S] buffer.
    public static func normalisedInterleaved(_ images: [[Float]], plane: Int) -> [Float] {
        var data = [Float](repeating: 0, count: images.count * 3 * plane)
        for (k, img) in images.enumerated() {
            for p in 0..<plane {
                for c in 0..<3 {
                    data[(k * 3 + c) * plane + p] = (img[p * 3 + c] - mean[c]) / std[c]
                }
            }
        }
        return data
    }

    /// Nearest-neighbour enlargement of interleaved 8-bit RGB by an integer factor `k`.
    public static func enlarged(rgb: [UInt8], width: Int, height: Int, factor k: Int) -> [UInt8] {
        let w = width * k, h = height * k
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let s = ((y / k) * width + x / k) * 3, d = (y * w + x) * 3
                out[d] = rgb[s]; out[d + 1] = rgb[s + 1]; out[d + 2] = rgb[s + 2]
            }
        }
        return out
    }
}

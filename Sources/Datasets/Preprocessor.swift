import Foundation

/// Turns an `Image` into the network's input: 3 × S × S, CHW, Float.
///
/// Follows the paper's torchvision stack: a grey image is replicated to three channels
/// (`Grayscale(num_output_channels=3)` / `convert("RGB")`), resized to S × S with bilinear
/// interpolation antialiased when shrinking (PIL / torchvision `antialias=True`: a triangle
/// filter whose support is scaled by the downscale factor, pixel centres at +0.5, weights
/// renormalised at the borders), then normalised with the ImageNet mean (0.485, 0.456, 0.406)
/// and std (0.229, 0.224, 0.225). Arithmetic stays in Float (torchvision's tensor path), not
/// PIL's 8-bit rounding between passes. Non-square images are stretched to S × S.
public struct Preprocessor: Sendable {
    public let inputSize: Int
    public let mean: [Float]
    public let std: [Float]

    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imagenetStd: [Float] = [0.229, 0.224, 0.225]

    public init(inputSize: Int = 224, mean: [Float] = Preprocessor.imagenetMean, std: [Float] = Preprocessor.imagenetStd) {
        self.inputSize = inputSize
        self.mean = mean
        self.std = std
    }

    /// 3 × S × S values in CHW order, normalised.
    public func tensorData(_ image: Image) -> [Float] {
        let s = inputSize
        let plane = s * s
        var out = [Float](repeating: 0, count: 3 * plane)
        // An image that breaks its own invariants yields zeros rather than reading out of bounds.
        guard image.width > 0, image.height > 0, image.channels > 0,
              image.pixels.count == image.width * image.height * image.channels else { return out }
        if image.channels != 3 {  // grey (or anything but RGB): channel 0 replicated
            let r = Resampler.resize(image.pixels, width: image.width, height: image.height, channels: image.channels, stride: image.channels, offset: 0, toWidth: s, toHeight: s)
            for c in 0..<3 {
                let m = mean[c], inv = 1 / std[c]
                for i in 0..<plane { out[c * plane + i] = (r[i] - m) * inv }
            }
        } else {
            for c in 0..<3 {
                let r = Resampler.resize(image.pixels, width: image.width, height: image.height, channels: image.channels, stride: image.channels, offset: c, toWidth: s, toHeight: s)
                let m = mean[c], inv = 1 / std[c]
                for i in 0..<plane { out[c * plane + i] = (r[i] - m) * inv }
            }
        }
        return out
    }

    /// Resized image (HWC, 3 channels, in [0, 1] scale, not normalised) — for explanations.
    public func resized(_ image: Image) -> Image {
        let s = inputSize
        var px = [Float](repeating: 0, count: s * s * 3)
        guard image.width > 0, image.height > 0, image.channels == 1 || image.channels == 3,
              image.pixels.count == image.width * image.height * image.channels else {
            return Image(width: s, height: s, channels: 3, pixels: px)
        }
        let src = image.rgb()
        for c in 0..<3 {
            let r = Resampler.resize(src.pixels, width: src.width, height: src.height, channels: 3, stride: 3, offset: c, toWidth: s, toHeight: s)
            for i in 0..<(s * s) { px[i * 3 + c] = r[i] }
        }
        return Image(width: s, height: s, channels: 3, pixels: px)
    }
}

/// Separable antialiased bilinear resampling with PIL's coefficient rule (see `Preprocessor`).
public enum Resampler {
    /// For each output index: first input index and normalised weights.
    public static func coefficients(inSize: Int, outSize: Int) -> [(start: Int, weights: [Float])] {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = 1.0 * filterScale  // bilinear (triangle) filter has support 1
        var result: [(Int, [Float])] = []
        result.reserveCapacity(outSize)
        for i in 0..<outSize {
            let center = (Double(i) + 0.5) * scale
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inSize)
            var w: [Double] = []
            var total = 0.0
            if xmax > xmin {
                for j in xmin..<xmax {
                    let t = abs((Double(j) - center + 0.5) / filterScale)
                    let v = t < 1 ? 1 - t : 0
                    w.append(v); total += v
                }
            }
            if total == 0 { result.append((min(max(Int(center), 0), inSize - 1), [1])); continue }
            result.append((xmin, w.map { Float($0 / total) }))
        }
        return result
    }

    /// Resizes one channel (`src[(y*width + x)*stride + offset]`) to toHeight × toWidth, row-major.
    public static func resize(_ src: [Float], width: Int, height: Int, channels: Int, stride: Int, offset: Int, toWidth: Int, toHeight: Int) -> [Float] {
        let cx = coefficients(inSize: width, outSize: toWidth)
        let cy = coefficients(inSize: height, outSize: toHeight)
        // Horizontal pass first (as PIL does): height × toWidth.
        var tmp = [Float](repeating: 0, count: height * toWidth)
        src.withUnsafeBufferPointer { s in
            tmp.withUnsafeMutableBufferPointer { t in
                for y in 0..<height {
                    let row = y * width
                    for (x, c) in cx.enumerated() {
                        var acc: Float = 0
                        for (k, w) in c.weights.enumerated() { acc += w * s[(row + c.start + k) * stride + offset] }
                        t[y * toWidth + x] = acc
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: toHeight * toWidth)
        tmp.withUnsafeBufferPointer { t in
            out.withUnsafeMutableBufferPointer { o in
                for (y, c) in cy.enumerated() {
                    let base = y * toWidth
                    for (k, w) in c.weights.enumerated() {
                        let srow = (c.start + k) * toWidth
                        for x in 0..<toWidth { o[base + x] += w * t[srow + x] }
                    }
                }
            }
        }
        return out
    }
}

import SeafoldCore

/// Which segmenter produces LIME's superpixels, with a fallback for images a segmenter
/// collapses (lime silently explains a one-segment image; seafold says so and falls back).
public enum SegmentationMethod: Codable, Equatable, Sendable {
    case quickshift(Quickshift)
    case slic(SLIC)
    case grid(rows: Int, cols: Int)

    public func segment(_ image: RGBImage) throws -> Segmentation {
        switch self {
        case let .quickshift(q): return try q.segment(image)
        case let .slic(s): return try s.segment(image)
        case let .grid(rows, cols): return try Segmentation.grid(width: image.width, height: image.height, rows: rows, cols: cols)
        }
    }

    /// Runs `self`; if it yields fewer than `minimumSegments`, runs `fallback` and records
    /// why in the result's warnings.
    public func segment(_ image: RGBImage, fallback: SegmentationMethod?, minimumSegments: Int) throws -> Segmentation {
        let first = try segment(image)
        guard first.count < minimumSegments, let fb = fallback else { return first }
        var second = try fb.segment(image)
        second.warnings = first.warnings + [
            "\(first.method) gave \(first.count) segment(s) (< \(minimumSegments)); fell back to \(second.method) with \(second.count) segments",
        ] + second.warnings
        return second
    }
}

/// Builds perturbed images fast: the image is cut into raster runs of one segment, and each
/// sample copies every run from either the original or the "fudged" (hidden) buffer.
struct PerturbationRenderer {
    let width: Int
    let height: Int
    let runs: [(start: Int, length: Int, segment: Int)]
    let original: [Float]
    let fudged: [Float]

    /// `hideColor` nil → each segment's mean colour (lime's hide_color=None).
    init(image: RGBImage, segmentation: Segmentation, hideColor: [Float]?) {
        width = image.width
        height = image.height
        runs = segmentation.runs()
        original = image.pixels
        var f = [Float](repeating: 0, count: image.pixels.count)
        if let hc = hideColor {
            for i in 0..<image.pixelCount { f[3 * i] = hc[0]; f[3 * i + 1] = hc[1]; f[3 * i + 2] = hc[2] }
        } else {
            let means = segmentation.meanColours(of: image)
            for (i, l) in segmentation.labels.enumerated() {
                let m = means[Int(l)]
                f[3 * i] = m.0; f[3 * i + 1] = m.1; f[3 * i + 2] = m.2
            }
        }
        fudged = f
    }

    /// The image with segment s kept where `on(s)` and hidden elsewhere.
    func render(_ on: (Int) -> Bool) -> RGBImage {
        var out = RGBImage(uncheckedWidth: width, height: height,
                           pixels: [Float](unsafeUninitializedCapacity: original.count) { _, n in n = original.count })
        render(on, into: &out.pixels)
        return out
    }

    /// Renders into an existing buffer of the right size (reused across batches: fresh
    /// 600 kB buffers per sample cost more in page faults than the copying itself).
    func render(_ on: (Int) -> Bool, into out: inout [Float]) {
        out.withUnsafeMutableBufferPointer { o in
            original.withUnsafeBufferPointer { a in
                fudged.withUnsafeBufferPointer { b in
                    for run in runs {
                        let src = on(run.segment) ? a : b
                        (o.baseAddress! + 3 * run.start).update(from: src.baseAddress! + 3 * run.start, count: 3 * run.length)
                    }
                }
            }
        }
    }
}

import SeafoldCore

/// A partition of an image into superpixels ("segments", lime's interpretable features).
///
/// `labels` holds one segment id per pixel (raster order), ids `0..<count`, numbered in raster
/// order of first appearance so that the numbering is a pure function of the partition.
/// (skimage numbers quickshift segments by their root pixel; seafold cannot match skimage's
/// random tie-breaking bit for bit anyway, so it uses the more readable raster order.)
public struct Segmentation: Codable, Equatable, Sendable {
    public let width: Int
    public let height: Int
    public let labels: [Int32]
    public let count: Int
    /// Which algorithm produced it (e.g. "quickshift(kernel_size=4, max_dist=200, ratio=0.2)").
    public var method: String
    /// Human-readable warnings (e.g. a collapse into one segment and the fallback taken).
    public var warnings: [String]

    /// True when the whole image is one segment: LIME then has nothing to explain.
    public var isCollapsed: Bool { count <= 1 }

    /// Builds a segmentation from arbitrary integer labels, renumbering them 0..<count in
    /// raster order of first appearance.
    public init(width: Int, height: Int, rawLabels: [Int], method: String, warnings: [String] = []) throws {
        guard width > 0, height > 0, rawLabels.count == width * height else {
            throw SeafoldError.mismatch(what: "segmentation labels (\(width)x\(height))",
                                        expected: "\(max(0, width * height))", found: "\(rawLabels.count)")
        }
        var map: [Int: Int32] = [:]
        var out = [Int32](repeating: 0, count: rawLabels.count)
        for (i, l) in rawLabels.enumerated() {
            if let m = map[l] { out[i] = m } else {
                let m = Int32(map.count)
                map[l] = m
                out[i] = m
            }
        }
        self.width = width
        self.height = height
        self.labels = out
        self.count = map.count
        self.method = method
        self.warnings = warnings
    }

    /// A regular grid of `rows × cols` rectangular cells: the simplest segmentation that can
    /// never collapse (used as a last-resort fallback and in tests).
    public static func grid(width: Int, height: Int, rows: Int, cols: Int) throws -> Segmentation {
        guard rows > 0, cols > 0 else {
            throw SeafoldError.config(key: "grid rows/cols", reason: "must be positive (got \(rows)x\(cols))")
        }
        let rr = min(rows, height), cc = min(cols, width)
        var raw = [Int](repeating: 0, count: width * height)
        for r in 0..<height {
            for c in 0..<width { raw[r * width + c] = (r * rr / height) * cc + (c * cc / width) }
        }
        return try Segmentation(width: width, height: height, rawLabels: raw, method: "grid(\(rr)x\(cc))")
    }

    /// Pixel indices of every segment (CSR layout): segment s owns
    /// `indices[offsets[s]..<offsets[s+1]]`, in raster order.
    public func pixelLists() -> (offsets: [Int], indices: [Int]) {
        var offsets = [Int](repeating: 0, count: count + 1)
        for l in labels { offsets[Int(l) + 1] += 1 }
        for s in 0..<count { offsets[s + 1] += offsets[s] }
        var fill = offsets
        var indices = [Int](repeating: 0, count: labels.count)
        for (i, l) in labels.enumerated() {
            indices[fill[Int(l)]] = i
            fill[Int(l)] += 1
        }
        return (offsets, indices)
    }

    /// Number of pixels in each segment.
    public func sizes() -> [Int] {
        var s = [Int](repeating: 0, count: count)
        for l in labels { s[Int(l)] += 1 }
        return s
    }

    /// Maximal horizontal runs of equal label in raster order: (first pixel, length, segment).
    /// Building a perturbed image is then a handful of contiguous copies per row.
    func runs() -> [(start: Int, length: Int, segment: Int)] {
        var out: [(start: Int, length: Int, segment: Int)] = []
        var i = 0
        let n = labels.count
        while i < n {
            let l = labels[i]
            var j = i + 1
            // Runs may continue across row ends: both buffers are contiguous HWC.
            while j < n && labels[j] == l { j += 1 }
            out.append((i, j - i, Int(l)))
            i = j
        }
        return out
    }

    /// Each segment's mean colour (lime's hide_color=None "fudged image" colours).
    public func meanColours(of image: RGBImage) -> [(Float, Float, Float)] {
        var sum = [Double](repeating: 0, count: count * 3)
        var n = [Int](repeating: 0, count: count)
        for (i, l) in labels.enumerated() {
            let s = Int(l)
            sum[3 * s] += Double(image.pixels[3 * i])
            sum[3 * s + 1] += Double(image.pixels[3 * i + 1])
            sum[3 * s + 2] += Double(image.pixels[3 * i + 2])
            n[s] += 1
        }
        return (0..<count).map { s in
            let d = Double(max(n[s], 1))
            return (Float(sum[3 * s] / d), Float(sum[3 * s + 1] / d), Float(sum[3 * s + 2] / d))
        }
    }
}

import Foundation
import SeafoldCore

/// SLIC superpixels with `skimage.segmentation.slic` semantics (2-D, no mask, slic_zero off).
///
/// As skimage: the image is converted to Lab and scaled by 1/compactness; centres start on
/// `skimage.util.regular_grid` (step ≈ √(H·W/n_segments), offset step//2, step rounded half
/// to even) with colour 0 (so the first assignment is purely spatial); each iteration assigns
/// every pixel within ±2·step of a centre to the centre minimising
/// (Δrow² + Δcol²)/step² + ‖Δlab‖²/compactness² (first centre wins ties), then moves centres to
/// their members' means; stops after `maxIterations` or when no assignment changes.
/// Connectivity is enforced as skimage's `_enforce_label_connectivity_cython`: a raster-order
/// breadth-first flood fill (4-neighbours) relabels connected pieces; pieces smaller than
/// `minSizeFactor·H·W/n_segments` join the last adjacent already-labelled piece, and a fill
/// stops growing at `maxSizeFactor·H·W/n_segments` pixels. Difference: a centre that loses all
/// its pixels is dropped (skimage divides by zero and leaves a NaN centre that never wins).
public struct SLIC: Codable, Equatable, Sendable {
    public var nSegments: Int
    public var compactness: Double
    public var maxIterations: Int
    public var enforceConnectivity: Bool
    public var minSizeFactor: Double
    public var maxSizeFactor: Double
    public var convertToLab: Bool

    public init(nSegments: Int = 100, compactness: Double = 10, maxIterations: Int = 10,
                enforceConnectivity: Bool = true, minSizeFactor: Double = 0.5,
                maxSizeFactor: Double = 3, convertToLab: Bool = true) {
        self.nSegments = nSegments
        self.compactness = compactness
        self.maxIterations = maxIterations
        self.enforceConnectivity = enforceConnectivity
        self.minSizeFactor = minSizeFactor
        self.maxSizeFactor = maxSizeFactor
        self.convertToLab = convertToLab
    }

    public var description: String { "slic(n_segments=\(nSegments), compactness=\(compactness), max_iter=\(maxIterations))" }

    /// skimage.util.regular_grid for a (1, H, W) volume: per-axis (start, step).
    static func gridAxes(height h: Int, width w: Int, n: Int) -> (rows: (Int, Int), cols: (Int, Int)) {
        if h * w <= n { return ((0, 1), (0, 1)) }
        // Depth 1 is always the smallest axis, so skimage fixes it to 1 and spreads over H×W.
        let small = min(h, w), large = max(h, w)
        var sSmall = (Double(h * w) / Double(n)).squareRoot()
        var sLarge = sSmall
        if Double(small) < sSmall || Double(large) < sLarge {
            sSmall = Double(small)
            sLarge = Double(large) / Double(n)
        }
        let a = (Int((sSmall / 2).rounded(.down)), Int(sSmall.rounded(.toNearestOrEven)))
        let b = (Int((sLarge / 2).rounded(.down)), Int(sLarge.rounded(.toNearestOrEven)))
        return h <= w ? (a, b) : (b, a)
    }

    public func segment(_ image: RGBImage) throws -> Segmentation {
        guard nSegments >= 1 else { throw SeafoldError.config(key: "slic.n_segments", reason: "must be >= 1, got \(nSegments)") }
        guard compactness > 0, compactness.isFinite else {
            throw SeafoldError.config(key: "slic.compactness", reason: "must be positive, got \(compactness)")
        }
        guard maxIterations >= 1 else { throw SeafoldError.config(key: "slic.max_iter", reason: "must be >= 1, got \(maxIterations)") }
        let h = image.height, w = image.width, n = h * w
        var feat: [Double] = convertToLab ? ColorSpace.lab(image) : image.pixels.map { Double($0) }
        let ratio = 1 / compactness
        for i in 0..<feat.count { feat[i] *= ratio }

        let axes = SLIC.gridAxes(height: h, width: w, n: nSegments)
        var centres: [[Double]] = []   // (row, col, L, a, b)
        for r in stride(from: axes.rows.0, to: h, by: max(axes.rows.1, 1)) {
            for c in stride(from: axes.cols.0, to: w, by: max(axes.cols.1, 1)) {
                centres.append([Double(r), Double(c), 0, 0, 0])
            }
        }
        let step = Double(max(axes.rows.1, axes.cols.1, 1))
        let spatialWeight = 1 / (step * step)
        var alive = [Bool](repeating: true, count: centres.count)
        var nearest = [Int](repeating: -1, count: n)
        var distance = [Double](repeating: .greatestFiniteMagnitude, count: n)

        for _ in 0..<maxIterations {
            var change = false
            for i in 0..<n { distance[i] = .greatestFiniteMagnitude }
            for (k, ctr) in centres.enumerated() where alive[k] {
                let cy = ctr[0], cx = ctr[1]
                let y0 = Int(max(cy - 2 * step, 0)), y1 = Int(min(cy + 2 * step + 1, Double(h)))
                let x0 = Int(max(cx - 2 * step, 0)), x1 = Int(min(cx + 2 * step + 1, Double(w)))
                for y in y0..<y1 {
                    let dy = (cy - Double(y)) * (cy - Double(y))
                    for x in x0..<x1 {
                        let dx = (cx - Double(x)) * (cx - Double(x))
                        let p = y * w + x
                        let t0 = feat[3 * p] - ctr[2], t1 = feat[3 * p + 1] - ctr[3], t2 = feat[3 * p + 2] - ctr[4]
                        let d = (dy + dx) * spatialWeight + t0 * t0 + t1 * t1 + t2 * t2
                        if distance[p] > d {
                            if nearest[p] != k { change = true }
                            nearest[p] = k
                            distance[p] = d
                        }
                    }
                }
            }
            if !change { break }
            var sums = [[Double]](repeating: [0, 0, 0, 0, 0], count: centres.count)
            var counts = [Int](repeating: 0, count: centres.count)
            for p in 0..<n {
                let k = nearest[p]
                if k < 0 { continue }
                counts[k] += 1
                sums[k][0] += Double(p / w); sums[k][1] += Double(p % w)
                sums[k][2] += feat[3 * p]; sums[k][3] += feat[3 * p + 1]; sums[k][4] += feat[3 * p + 2]
            }
            for k in 0..<centres.count {
                if counts[k] == 0 { alive[k] = false; continue }
                centres[k] = sums[k].map { $0 / Double(counts[k]) }
            }
        }
        // A pixel outside every window (impossible with 2·step windows on a regular grid; kept
        // for safety) is given centre 0, and the connectivity pass then merges it if it is small.
        var raw = nearest.map { max($0, 0) }
        if enforceConnectivity {
            let segmentSize = Double(n) / Double(nSegments)
            raw = SLIC.enforceConnectivity(raw, width: w, height: h,
                                           minSize: Int(minSizeFactor * segmentSize),
                                           maxSize: Int(maxSizeFactor * segmentSize))
        }
        var seg = try Segmentation(width: w, height: h, rawLabels: raw, method: description)
        if seg.isCollapsed {
            seg.warnings.append("SLIC produced a single segment for the \(w)x\(h) image; raise n_segments or use the grid fallback")
        }
        return seg
    }

    /// skimage's `_enforce_label_connectivity_cython` in 2-D (see the type's doc comment).
    static func enforceConnectivity(_ labels: [Int], width w: Int, height h: Int, minSize: Int, maxSize: Int) -> [Int] {
        let n = w * h
        var out = [Int](repeating: -1, count: n)
        var queue = [Int](repeating: 0, count: n)
        var newLabel = 0
        let cap = max(maxSize, 1)
        for start in 0..<n where out[start] < 0 {
            var adjacent = 0
            let label = labels[start]
            out[start] = newLabel
            var size = 1
            var visited = 0
            queue[0] = start
            while visited < size && size < cap {
                let p = queue[visited]
                let y = p / w, x = p % w
                let neighbours = [(y, x + 1), (y, x - 1), (y + 1, x), (y - 1, x)]
                for (yy, xx) in neighbours where yy >= 0 && yy < h && xx >= 0 && xx < w {
                    let q = yy * w + xx
                    if labels[q] == label && out[q] < 0 {
                        out[q] = newLabel
                        queue[size] = q
                        size += 1
                        if size >= cap { break }
                    } else if out[q] >= 0 && out[q] != newLabel {
                        adjacent = out[q]
                    }
                }
                visited += 1
            }
            if size < minSize {
                for i in 0..<size { out[queue[i]] = adjacent }
            } else {
                newLabel += 1
            }
        }
        return out
    }
}

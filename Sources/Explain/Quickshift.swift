import Foundation
import SeafoldCore

/// Quickshift superpixels with `skimage.segmentation.quickshift` semantics (lime's default
/// segmenter, with lime's defaults kernel_size 4, max_dist 200, ratio 0.2).
///
/// As skimage: the image is converted to Lab (`convertToLab`), multiplied by `ratio`, and each
/// pixel's feature vector is (ratio·L, ratio·a, ratio·b, row, col). The density of a pixel is
/// Σ exp(−‖f − f′‖² / (2σ²)) over the square window of radius ⌈3σ⌉ (σ = kernel_size); a
/// uniform random value × 1e-5 is added to every density to break ties (skimage seeds this
/// with `rng=42`; seafold draws it from `SeededGenerator(seed: randomSeed)`, so labels match
/// skimage's definition but not its numpy stream). Each pixel links to the nearest pixel (by
/// feature distance) of strictly higher density inside the same window; links longer than
/// `maxDist` are cut; the roots of the resulting forest are the segments. skimage's
/// Gaussian pre-smoothing (`sigma`, default 0 and unused by lime) is not implemented.
public struct Quickshift: Codable, Equatable, Sendable {
    public var kernelSize: Double
    public var maxDist: Double
    public var ratio: Double
    public var convertToLab: Bool
    public var randomSeed: UInt64

    public init(kernelSize: Double = 4, maxDist: Double = 200, ratio: Double = 0.2,
                convertToLab: Bool = true, randomSeed: UInt64 = 42) {
        self.kernelSize = kernelSize
        self.maxDist = maxDist
        self.ratio = ratio
        self.convertToLab = convertToLab
        self.randomSeed = randomSeed
    }

    public var description: String {
        "quickshift(kernel_size=\(kernelSize), max_dist=\(maxDist), ratio=\(ratio), seed=\(randomSeed))"
    }

    /// Segments `image`. A result with a single segment carries a warning (see `Segmentation.isCollapsed`).
    public func segment(_ image: RGBImage) throws -> Segmentation {
        guard kernelSize >= 1, kernelSize.isFinite else {
            throw SeafoldError.config(key: "quickshift.kernel_size", reason: "must be >= 1 (skimage's rule), got \(kernelSize)")
        }
        guard maxDist >= 0, ratio.isFinite, ratio >= 0 else {
            throw SeafoldError.config(key: "quickshift.max_dist/ratio", reason: "must be non-negative (got max_dist \(maxDist), ratio \(ratio))")
        }
        let h = image.height, w = image.width, n = h * w
        var feat: [Double] = convertToLab ? ColorSpace.lab(image) : image.pixels.map { Double($0) }
        for i in 0..<feat.count { feat[i] *= ratio }

        let radius = Int((3 * kernelSize).rounded(.up))
        let inv = -0.5 / (kernelSize * kernelSize)
        // exp(a + b) = exp(a)·exp(b): the spatial factor depends only on the offset.
        let side = 2 * radius + 1
        var spatial = [Double](repeating: 0, count: side * side)
        for dr in -radius...radius {
            for dc in -radius...radius {
                spatial[(dr + radius) * side + dc + radius] = exp(Double(dr * dr + dc * dc) * inv)
            }
        }

        // The kernel is symmetric, so each pair is evaluated once and added to both pixels.
        // Rows are split into a fixed number of chunks, each with its own accumulator, summed
        // in chunk order: the result does not depend on thread scheduling or core count.
        let chunks = min(h, 8)
        var partial = [[Double]](repeating: [], count: chunks)
        feat.withUnsafeBufferPointer { f in
            spatial.withUnsafeBufferPointer { sp in
                partial.withUnsafeMutableBufferPointer { parts in
                    let partsBase = parts.baseAddress!
                    DispatchQueue.concurrentPerform(iterations: chunks) { k in
                        var acc = [Double](repeating: 0, count: n)
                        acc.withUnsafeMutableBufferPointer { a in
                            for r in (k * h / chunks)..<((k + 1) * h / chunks) {
                                for c in 0..<w {
                                    let me = r * w + c
                                    a[me] += 1   // the pixel itself: exp(0)
                                    let f0 = f[3 * me], f1 = f[3 * me + 1], f2 = f[3 * me + 2]
                                    for dr in 0...radius where r + dr < h {
                                        let rr = r + dr
                                        let c0 = dr == 0 ? c + 1 : max(c - radius, 0)
                                        let c1 = min(c + radius + 1, w)
                                        if c0 >= c1 { continue }
                                        let spRow = (dr + radius) * side + radius - c
                                        for cc in c0..<c1 {
                                            let q = rr * w + cc
                                            let t0 = f0 - f[3 * q], t1 = f1 - f[3 * q + 1], t2 = f2 - f[3 * q + 2]
                                            let e = exp((t0 * t0 + t1 * t1 + t2 * t2) * inv) * sp[spRow + cc]
                                            a[me] += e
                                            a[q] += e
                                        }
                                    }
                                }
                            }
                        }
                        (partsBase + k).pointee = acc
                    }
                }
            }
        }
        var density = partial[0]
        for k in 1..<chunks { for i in 0..<n { density[i] += partial[k][i] } }
        var rng = SeededGenerator(seed: randomSeed)
        for i in 0..<n { density[i] += rng.nextDouble() * 0.00001 }

        // Candidate offsets sorted by spatial distance: the feature distance is at least the
        // spatial one, so the scan stops once dr² + dc² exceeds the best distance found —
        // usually after a few neighbours instead of the whole (2·⌈3σ⌉+1)² window.
        var offsets: [(dr: Int, dc: Int, s: Double)] = []
        for dr in -radius...radius { for dc in -radius...radius { offsets.append((dr, dc, Double(dr * dr + dc * dc))) } }
        offsets.sort { $0.s < $1.s }
        var parent = [Int](repeating: 0, count: n)
        let maxDistSq = maxDist * maxDist
        feat.withUnsafeBufferPointer { f in
            density.withUnsafeBufferPointer { dens in
                offsets.withUnsafeBufferPointer { offs in
                    parent.withUnsafeMutableBufferPointer { par in
                        let pp = par.baseAddress!
                        DispatchQueue.concurrentPerform(iterations: h) { r in
                            for c in 0..<w {
                                let me = r * w + c
                                let current = dens[me]
                                let p = 3 * me
                                let f0 = f[p], f1 = f[p + 1], f2 = f[p + 2]
                                var closest = Double.infinity
                                var best = me
                                for o in offs {
                                    if o.s > closest { break }
                                    let rr = r + o.dr, cc = c + o.dc
                                    if rr < 0 || rr >= h || cc < 0 || cc >= w { continue }
                                    let q = rr * w + cc
                                    if !(dens[q] > current) { continue }
                                    let t0 = f0 - f[3 * q], t1 = f1 - f[3 * q + 1], t2 = f2 - f[3 * q + 2]
                                    let dist = t0 * t0 + t1 * t1 + t2 * t2 + o.s
                                    // skimage scans the window in raster order and keeps the first
                                    // strict minimum: among equal distances, the lowest raster index.
                                    if dist < closest || (dist == closest && q < best) { closest = dist; best = q }
                                }
                                // skimage compares sqrt(closest) > max_dist; squares compare alike.
                                pp[me] = closest > maxDistSq ? me : best
                            }
                        }
                    }
                }
            }
        }
        // Flatten the forest: each pixel takes the root of its tree (links always go to higher
        // density, so there are no cycles).
        var root = [Int](repeating: -1, count: n)
        var stack: [Int] = []
        for i in 0..<n where root[i] < 0 {
            var j = i
            while root[j] < 0 && parent[j] != j { stack.append(j); j = parent[j] }
            let rt = root[j] >= 0 ? root[j] : j
            root[j] = rt
            while let k = stack.popLast() { root[k] = rt }
        }
        var seg = try Segmentation(width: w, height: h, rawLabels: root, method: description)
        if seg.isCollapsed {
            seg.warnings.append("quickshift collapsed the \(w)x\(h) image into one segment; " +
                                "use a smaller kernel_size/max_dist, a larger ratio, or the SLIC/grid fallback")
        }
        return seg
    }
}

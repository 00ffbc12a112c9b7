import Foundation
import SeafoldCore

/// Random fields and distributions used by the synthetic generators. All draws go through the
/// caller's `SeededGenerator`, in a fixed order, so a seed fixes every pixel.
enum RandomFields {
    /// Smooth value noise in about [-1, 1]: random lattice values every `cell` pixels,
    /// interpolated with a smoothstep; `octaves` layers at halving cell size and amplitude.
    static func smooth(width: Int, height: Int, cell: Double, octaves: Int = 3, rng: inout SeededGenerator) -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        var amp: Float = 1, total: Float = 0
        var c = max(cell, 1.5)
        for _ in 0..<max(octaves, 1) {
            let gw = Int(Double(width) / c) + 2, gh = Int(Double(height) / c) + 2
            var grid = [Float](repeating: 0, count: gw * gh)
            for i in grid.indices { grid[i] = rng.nextFloat() * 2 - 1 }
            let inv = Float(1 / c)
            grid.withUnsafeBufferPointer { g in
                out.withUnsafeMutableBufferPointer { o in
                    for y in 0..<height {
                        let fy = Float(y) * inv
                        let iy = Int(fy)
                        var ty = fy - Float(iy); ty = ty * ty * (3 - 2 * ty)
                        for x in 0..<width {
                            let fx = Float(x) * inv
                            let ix = Int(fx)
                            var tx = fx - Float(ix); tx = tx * tx * (3 - 2 * tx)
                            let a = g[iy * gw + ix], b = g[iy * gw + ix + 1]
                            let cc = g[(iy + 1) * gw + ix], d = g[(iy + 1) * gw + ix + 1]
                            let top = a + (b - a) * tx, bottom = cc + (d - cc) * tx
                            o[y * width + x] += amp * (top + (bottom - top) * ty)
                        }
                    }
                }
            }
            total += amp
            amp *= 0.5
            c /= 2
        }
        let norm = 1 / total
        for i in out.indices { out[i] *= norm }
        return out
    }

    /// Gamma(shape, scale = 1/shape): mean 1, variance 1/shape (Marsaglia–Tsang).
    static func unitMeanGamma(shape k: Double, rng: inout SeededGenerator) -> Float {
        if k >= 1e6 { return 1 }
        if k < 1 {
            let g = unitMeanGamma(shape: k + 1, rng: &rng) * Float(k + 1)  // Gamma(k+1, 1)
            var u = rng.nextDouble(); while u <= 0 { u = rng.nextDouble() }
            return g * Float(Foundation.pow(u, 1 / k) / k)
        }
        let d = k - 1.0 / 3.0, c = 1 / (9 * d).squareRoot()
        while true {
            let x = rng.normal()
            let t = 1 + c * x
            if t <= 0 { continue }
            let v = t * t * t
            var u = rng.nextDouble(); while u <= 0 { u = rng.nextDouble() }
            if Foundation.log(u) < 0.5 * x * x + d - d * v + d * Foundation.log(v) { return Float(d * v / k) }
        }
    }

    /// Mean of `looks` unit exponentials: the intensity speckle of an L-look image
    /// (Gamma(L, 1/L)); its square root is Rayleigh-distributed for L = 1.
    @inline(__always)
    static func speckle(looks: Int, rng: inout SeededGenerator) -> Float {
        var s = 0.0
        for _ in 0..<looks {
            var u = rng.nextDouble(); while u <= 0 { u = rng.nextDouble() }
            s -= Foundation.log(u)
        }
        return Float(s / Double(looks))
    }
}

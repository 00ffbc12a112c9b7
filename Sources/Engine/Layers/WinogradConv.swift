import Dispatch

/// Winograd minimal filtering F(2×2, 3×3) for a stride-1 3×3 convolution (Lavin & Gray 2016,
/// "Fast Algorithms for Convolutional Neural Networks"): 16 multiplies per 2×2 output tile
/// instead of 36, so 2.25× fewer multiply-adds than the direct convolution.
///
/// With Bᵀ, G and Aᵀ from that paper, for every input channel c and 4×4 input tile d the
/// transformed tile is V = Bᵀ d B, for every filter g the transformed filter is U = G g Gᵀ, and
/// the 2×2 output is Y = Aᵀ (Σ_c U ⊙ V) A. The channel sum is 16 independent GEMMs
/// M[ξ] = U[ξ][Cout×Cin] · V[ξ][Cin×tiles], ξ = the 16 tile positions.
///
/// Determinism: every element is computed by a fixed sequence of operations whatever the thread
/// count (transforms parallelise over channels, each channel's work is one iteration; each of
/// the 16 GEMMs is one single-threaded OpenBLAS call of a shape that depends only on the layer
/// and the batch chunk). The summation order differs from im2col + GEMM, so results differ
/// from the direct convolution by rounding (bounded in the tests).
struct Winograd3x3 {
    /// Input channels, output channels, input and output plane size, zero padding.
    let channels: Int, outChannels: Int, inH: Int, inW: Int, pad: Int, outH: Int, outW: Int
    let tilesH: Int, tilesW: Int
    var tilesPerImage: Int { tilesH * tilesW }

    /// Whether a convolution geometry is handled (k 3, stride 1, padding 0…2, so the
    /// backward-data convolution, padded by 2 − p, is one as well).
    static func applies(kernel: Int, stride: Int, padding: Int) -> Bool {
        kernel == 3 && stride == 1 && padding >= 0 && padding <= 2
    }

    init(channels: Int, outChannels: Int, inH: Int, inW: Int, pad: Int) {
        self.channels = channels; self.outChannels = outChannels
        self.inH = inH; self.inW = inW; self.pad = pad
        outH = inH + 2 * pad - 2; outW = inW + 2 * pad - 2
        tilesH = (outH + 1) / 2; tilesW = (outW + 1) / 2
    }

    /// Samples per chunk so that the transformed input and the GEMM output stay under
    /// `maxFloats` each (a function of the shape only).
    func chunk(batch: Int, maxFloats: Int) -> Int {
        let per = 16 * max(channels, outChannels) * tilesPerImage
        return max(1, min(batch, maxFloats / max(per, 1)))
    }

    /// U[ξ][o][i] = G g Gᵀ for the filters of a Conv2d weight w[Cout][Cin][3][3].
    /// `backwardData == false`: o = Cout, i = Cin, g = w[o][i] (the forward convolution).
    /// `backwardData == true`: o = Cin, i = Cout, g = w[i][o] rotated by 180° (the input
    /// gradient is the full correlation of the output gradient with the flipped, transposed kernel).
    static func transformFilters(_ w: UnsafePointer<Float>, cout: Int, cin: Int, backwardData: Bool,
                                 into u: UnsafeMutablePointer<Float>) {
        let rows = backwardData ? cin : cout, cols = backwardData ? cout : cin
        let plane = rows * cols
        // Filter (o, i) lives at w + o·oStride + i·iStride; backward-data reads it rotated by 180°.
        let oStride = backwardData ? 9 : cin * 9, iStride = backwardData ? cin * 9 : 9
        parallelFor(rows, minPerThread: 8) { o in
            let base = w + o * oStride
            let dst = u + o * cols
            for i in 0..<cols {
                let f = base + i * iStride
                // g[r][c]; rotated: g[r][c] = f[8 − 3r − c].
                let g00, g01, g02, g10, g11, g12, g20, g21, g22: Float
                if backwardData {
                    g00 = f[8]; g01 = f[7]; g02 = f[6]; g10 = f[5]; g11 = f[4]; g12 = f[3]; g20 = f[2]; g21 = f[1]; g22 = f[0]
                } else {
                    g00 = f[0]; g01 = f[1]; g02 = f[2]; g10 = f[3]; g11 = f[4]; g12 = f[5]; g20 = f[6]; g21 = f[7]; g22 = f[8]
                }
                // t = G g (4×3) with G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], then U = t Gᵀ row by row.
                let t10 = 0.5 * (g00 + g10 + g20), t11 = 0.5 * (g01 + g11 + g21), t12 = 0.5 * (g02 + g12 + g22)
                let t20 = 0.5 * (g00 - g10 + g20), t21 = 0.5 * (g01 - g11 + g21), t22 = 0.5 * (g02 - g12 + g22)
                @inline(__always) func row(_ r: Int, _ a: Float, _ b: Float, _ c: Float) {
                    let d = dst + 4 * r * plane + i
                    d[0] = a
                    d[plane] = 0.5 * (a + b + c)
                    d[2 * plane] = 0.5 * (a - b + c)
                    d[3 * plane] = c
                }
                row(0, g00, g01, g02)
                row(1, t10, t11, t12)
                row(2, t20, t21, t22)
                row(3, g20, g21, g22)
            }
        }
    }

    /// y[n][o] = conv(x[n], filters) (+ bias[o]) for samples 0..<batch, NCHW, overwriting y.
    /// `u` holds the transformed filters (`transformFilters`); `v` and `m` are scratch buffers
    /// of at least 16·channels·tiles and 16·outChannels·tiles floats for `nbMax` samples.
    func run(_ x: UnsafePointer<Float>, batch: Int, u: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
             y: UnsafeMutablePointer<Float>, v: FloatBuffer, m: FloatBuffer, nbMax: Int) {
        let tpi = tilesPerImage
        v.ensure(16 * channels * nbMax * tpi)
        m.ensure(16 * outChannels * nbMax * tpi)
        var start = 0
        while start < batch {
            let nb = min(nbMax, batch - start)
            let tiles = nb * tpi
            inputTransform(x + start * channels * inH * inW, nb: nb, v: v.ptr)
            let vp = v.ptr, mp = m.ptr, co = outChannels, ci = channels
            let gemm: (Int) -> Void = { xi in
                blasSgemm(transA: false, transB: false, m: co, n: tiles, k: ci, alpha: 1,
                          a: u + xi * co * ci, lda: ci, b: vp + xi * ci * tiles, ldb: tiles,
                          beta: 0, c: mp + xi * co * tiles, ldc: tiles)
            }
            if ParallelConfig.threads > 1 {
                DispatchQueue.concurrentPerform(iterations: 16, execute: gemm)
            } else {
                for xi in 0..<16 { gemm(xi) }
            }
            outputTransform(m: mp, nb: nb, bias: bias, y: y + start * outChannels * outH * outW)
            start += nb
        }
    }

    /// V[ξ][c][t] = (Bᵀ d B)[ξ] for every 4×4 input tile d (zero outside the image).
    /// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
    private func inputTransform(_ x: UnsafePointer<Float>, nb: Int, v: UnsafeMutablePointer<Float>) {
        let ih = inH, iw = inW, p = pad, th = tilesH, tw = tilesW, c = channels
        let tiles = nb * tilesPerImage, plane = ih * iw, rowStride = c * tiles
        parallelFor(c, minPerThread: 4) { ch in
          withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { buf in
            let dp = buf.baseAddress!
            let out = v + ch * tiles
            for n in 0..<nb {
                let src = x + (n * c + ch) * plane
                for ty in 0..<th {
                    let y0 = 2 * ty - p
                    for tx in 0..<tw {
                        let x0 = 2 * tx - p
                        if y0 >= 0 && x0 >= 0 && y0 + 4 <= ih && x0 + 4 <= iw {
                            for r in 0..<4 {
                                let s = src + (y0 + r) * iw + x0
                                dp[4 * r] = s[0]; dp[4 * r + 1] = s[1]; dp[4 * r + 2] = s[2]; dp[4 * r + 3] = s[3]
                            }
                        } else {
                            for r in 0..<4 {
                                let iy = y0 + r
                                for q in 0..<4 {
                                    let ix = x0 + q
                                    dp[4 * r + q] = (iy >= 0 && iy < ih && ix >= 0 && ix < iw) ? src[iy * iw + ix] : 0
                                }
                            }
                        }
                        // Rows: t = Bᵀ d.
                        let t0 = dp[0] - dp[8], t1 = dp[1] - dp[9], t2 = dp[2] - dp[10], t3 = dp[3] - dp[11]
                        let t4 = dp[4] + dp[8], t5 = dp[5] + dp[9], t6 = dp[6] + dp[10], t7 = dp[7] + dp[11]
                        let t8 = dp[8] - dp[4], t9 = dp[9] - dp[5], t10 = dp[10] - dp[6], t11 = dp[11] - dp[7]
                        let t12 = dp[4] - dp[12], t13 = dp[5] - dp[13], t14 = dp[6] - dp[14], t15 = dp[7] - dp[15]
                        // Columns: V = t B.
                        let o = out + (n * th + ty) * tw + tx
                        o[0 * rowStride] = t0 - t2; o[1 * rowStride] = t1 + t2; o[2 * rowStride] = t2 - t1; o[3 * rowStride] = t1 - t3
                        o[4 * rowStride] = t4 - t6; o[5 * rowStride] = t5 + t6; o[6 * rowStride] = t6 - t5; o[7 * rowStride] = t5 - t7
                        o[8 * rowStride] = t8 - t10; o[9 * rowStride] = t9 + t10; o[10 * rowStride] = t10 - t9; o[11 * rowStride] = t9 - t11
                        o[12 * rowStride] = t12 - t14; o[13 * rowStride] = t13 + t14; o[14 * rowStride] = t14 - t13; o[15 * rowStride] = t13 - t15
                    }
                }
            }
          }
        }
    }

    /// y = Aᵀ M A (+ bias) per tile, cropped to the output plane. Aᵀ = [1 1 1 0; 0 1 −1 −1].
    private func outputTransform(m: UnsafePointer<Float>, nb: Int, bias: UnsafePointer<Float>?,
                                 y: UnsafeMutablePointer<Float>) {
        let oh = outH, ow = outW, th = tilesH, tw = tilesW, co = outChannels
        let tiles = nb * tilesPerImage, plane = oh * ow, rowStride = co * tiles
        parallelFor(co, minPerThread: 4) { o in
            let b = bias?[o] ?? 0
            let src = m + o * tiles
            for n in 0..<nb {
                let dst = y + (n * co + o) * plane
                for ty in 0..<th {
                    for tx in 0..<tw {
                        let s = src + (n * th + ty) * tw + tx
                        let m0 = s[0], m1 = s[rowStride], m2 = s[2 * rowStride], m3 = s[3 * rowStride]
                        let m4 = s[4 * rowStride], m5 = s[5 * rowStride], m6 = s[6 * rowStride], m7 = s[7 * rowStride]
                        let m8 = s[8 * rowStride], m9 = s[9 * rowStride], m10 = s[10 * rowStride], m11 = s[11 * rowStride]
                        let m12 = s[12 * rowStride], m13 = s[13 * rowStride], m14 = s[14 * rowStride], m15 = s[15 * rowStride]
                        // Rows: t = Aᵀ M (2×4).
                        let a0 = m0 + m4 + m8, a1 = m1 + m5 + m9, a2 = m2 + m6 + m10, a3 = m3 + m7 + m11
                        let b0 = m4 - m8 - m12, b1 = m5 - m9 - m13, b2 = m6 - m10 - m14, b3 = m7 - m11 - m15
                        let oy = 2 * ty, ox = 2 * tx
                        let r0 = dst + oy * ow + ox
                        r0[0] = a0 + a1 + a2 + b
                        if ox + 1 < ow { r0[1] = a1 - a2 - a3 + b }
                        if oy + 1 < oh {
                            let r1 = r0 + ow
                            r1[0] = b0 + b1 + b2 + b
                            if ox + 1 < ow { r1[1] = b1 - b2 - b3 + b }
                        }
                    }
                }
            }
        }
    }
}

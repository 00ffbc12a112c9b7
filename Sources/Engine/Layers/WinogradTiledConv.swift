import CKernels
import Dispatch

/// A stride-1 k×k convolution by Winograd minimal filtering F(m×m, k×k) with tiles of
/// n = m + k − 1 ≤ 8 (Lavin & Gray 2016), matrices from `WinogradMatrices` (Cook–Toom points
/// 0, ±1, ±2, ½). AlexNet uses F(3×3, 5×5) for features.3, forward and backward-data: 4.6×
/// fewer multiplies than the direct convolution, and 27 = 9·3 leaves no partial tiles. The
/// 13×13 3×3 layers use F(5×5, 3×3) for the forward pass from batch `minBatch3x3` (inference,
/// feature extraction, LIME): 441 multiplies per channel pair and image against 784 for
/// `Winograd3x3`'s F(2×2, 3×3), which keeps training's small batches and the input gradient.
/// F(4×4) and F(6×6, 3×3) measured slower than F(5×5) there (more partial-tile waste).
///
/// Steps as in `Winograd3x3`: V = Bᵀ d B per input channel and tile, U = G g Gᵀ per filter
/// (computed in double, rounded once), n² independent GEMMs M[ξ] = U[ξ]·V[ξ], then
/// Y = Aᵀ M A per output channel and tile. The transforms are C (`ckernels_winograd.h`).
///
/// Determinism: the transforms parallelise over channels (one thread per channel's work), each
/// of the n² GEMMs is one single-threaded OpenBLAS call whose shape depends only on the layer
/// and the batch chunk, so results do not depend on the thread count. Rounding differs from
/// im2col + GEMM (relative error ~1e-5 of the output scale for n = 7, bounded in the tests).
final class WinogradTiled {
    let m: Int, r: Int, n: Int
    let channels: Int, outChannels: Int, inH: Int, inW: Int, pad: Int, outH: Int, outW: Int
    let tilesH: Int, tilesW: Int
    var tilesPerImage: Int { tilesH * tilesW }
    private let matrices: WinogradMatrices
    private let bt: UnsafeMutablePointer<Float>, at: UnsafeMutablePointer<Float>
    private let g: UnsafeMutablePointer<Double>

    /// The output tile used for a stride-1 k×k convolution, or nil when this class is not used.
    static func outputTile(kernel: Int, stride: Int, padding: Int) -> Int? {
        guard stride == 1, padding >= 0, padding < kernel else { return nil }
        switch kernel {
        case 3: return 5
        case 5: return 3
        default: return nil
        }
    }

    init(m: Int, kernel: Int, channels: Int, outChannels: Int, inH: Int, inW: Int, pad: Int) {
        self.m = m; r = kernel; n = m + kernel - 1
        precondition(n <= 8, "Winograd tiles are at most 8×8")
        self.channels = channels; self.outChannels = outChannels
        self.inH = inH; self.inW = inW; self.pad = pad
        outH = inH + 2 * pad - kernel + 1; outW = inW + 2 * pad - kernel + 1
        tilesH = (outH + m - 1) / m; tilesW = (outW + m - 1) / m
        matrices = WinogradMatrices(m: m, r: kernel)
        bt = .allocate(capacity: n * n); at = .allocate(capacity: m * n); g = .allocate(capacity: n * kernel)
        for (i, x) in matrices.bt.enumerated() { bt[i] = Float(x) }
        for (i, x) in matrices.at.enumerated() { at[i] = Float(x) }
        for (i, x) in matrices.g.enumerated() { g[i] = x }
    }

    deinit { bt.deallocate(); at.deallocate(); g.deallocate() }

    /// Floats of the transformed filters.
    var filterFloats: Int { n * n * outChannels * channels }

    /// Floats of the transformed input or GEMM output per chunk: 8 MB, so that both stay in
    /// the caches between the transforms and the GEMMs (`seafold bench conv` on features.3
    /// compares chunk sizes; BENCHMARKS.md).
    static let maxChunkFloats = 2 << 20
    /// Tiles per GEMM below which a chunk is grown past `maxChunkFloats`: the n² GEMMs are
    /// Cout × Cin × tiles, and with 9 tiles per 13×13 image a 2 M-float chunk leaves ~100
    /// columns, too narrow for the GEMM to run at speed.
    static let minChunkTiles = 384
    /// Batch from which 3×3 layers run their forward pass with F(5×5, 3×3) instead of
    /// F(2×2, 3×3): at batch 64 it is faster (`seafold bench conv`), at the train batch
    /// of 6 no faster, and there it would pay the 49-position filter transform every step.
    /// A batch's outputs thus differ by rounding (~1e-5) between batches below and above it,
    /// as oneDNN's and cuDNN's choice of algorithm by shape does; each is deterministic.
    static let minBatch3x3 = 32

    /// Whether this geometry's forward runs at `batch` (5×5 always; 3×3 from `minBatch3x3`).
    func appliesForward(batch: Int) -> Bool { r != 3 || batch >= WinogradTiled.minBatch3x3 }

    /// Samples per chunk: the transformed input and the GEMM output stay under `maxFloats`
    /// each, unless that leaves fewer than `minChunkTiles` tiles per GEMM (a function of the
    /// shape only).
    func chunk(batch: Int, maxFloats: Int = WinogradTiled.maxChunkFloats) -> Int {
        let per = n * n * max(channels, outChannels) * tilesPerImage
        let byFloats = maxFloats / max(per, 1)
        let byTiles = (WinogradTiled.minChunkTiles + tilesPerImage - 1) / tilesPerImage
        return max(1, min(batch, max(byFloats, byTiles)))
    }

    private func geometry() -> seafold_winograd_geometry {
        seafold_winograd_geometry(m: m, r: r, n: n, channels: channels, out_channels: outChannels,
                                  in_h: inH, in_w: inW, pad: pad, out_h: outH, out_w: outW,
                                  tiles_h: tilesH, tiles_w: tilesW, bt: bt, at: at)
    }

    /// U[ξ][o][i] for a Conv2d weight w[Cout][Cin][k][k] (forward: o = Cout, i = Cin), or with
    /// `backwardData` for the input gradient (o = Cin, i = Cout, filters rotated by 180°).
    func transformFilters(_ w: UnsafePointer<Float>, cout: Int, cin: Int, backwardData: Bool,
                          into u: UnsafeMutablePointer<Float>) {
        let rows = backwardData ? cin : cout, cols = backwardData ? cout : cin
        let kk = r * r
        let oStride = backwardData ? kk : cin * kk, iStride = backwardData ? cin * kk : kk
        let parts = min(rows, 8)
        let r = self.r, n = self.n, g = self.g
        parallelFor(parts) { part in
            let lo = rows * part / parts, hi = rows * (part + 1) / parts
            seafold_winograd_filters(w, r, n, g, rows, cols, oStride, iStride, backwardData ? 1 : 0, u, lo, hi)
        }
    }

    /// y[s] = conv(x[s]) (+ bias) for samples 0..<batch, NCHW, overwriting y; `v` and `mBuf`
    /// are scratch buffers grown to n²·channels·tiles and n²·outChannels·tiles floats per chunk.
    func run(_ x: UnsafePointer<Float>, batch: Int, u: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
             y: UnsafeMutablePointer<Float>, v: FloatBuffer, m mBuf: FloatBuffer, nbMax: Int) {
        let tpi = tilesPerImage, nn = n * n
        v.ensure(nn * channels * nbMax * tpi)
        mBuf.ensure(nn * outChannels * nbMax * tpi)
        var geo = geometry()
        var start = 0
        while start < batch {
            let nb = min(nbMax, batch - start)
            let tiles = nb * tpi
            let xs = x + start * channels * inH * inW
            let vp = v.ptr, mp = mBuf.ptr, co = outChannels, ci = channels
            let inParts = min(ci, 16), outParts = min(co, 16)
            withUnsafePointer(to: &geo) { gp in
                parallelFor(inParts) { part in
                    seafold_winograd_input(gp, xs, nb, vp, ci * part / inParts, ci * (part + 1) / inParts)
                }
            }
            let gemm: (Int) -> Void = { xi in
                blasSgemm(transA: false, transB: false, m: co, n: tiles, k: ci, alpha: 1,
                          a: u + xi * co * ci, lda: ci, b: vp + xi * ci * tiles, ldb: tiles,
                          beta: 0, c: mp + xi * co * tiles, ldc: tiles)
            }
            if ParallelConfig.threads > 1 {
                DispatchQueue.concurrentPerform(iterations: nn, execute: gemm)
            } else {
                for xi in 0..<nn { gemm(xi) }
            }
            let ys = y + start * outChannels * outH * outW
            withUnsafePointer(to: &geo) { gp in
                parallelFor(outParts) { part in
                    seafold_winograd_output(gp, mp, nb, bias, ys, co * part / outParts, co * (part + 1) / outParts)
                }
            }
            start += nb
        }
        _ = geo
    }
}

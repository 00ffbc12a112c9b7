import Foundation
import SeafoldCore

/// 2-D convolution with square kernel, stride and zero padding (PyTorch `nn.Conv2d`, groups 1,
/// dilation 1). Weight [out, in, k, k], bias [out].
///
/// Computed as im2col + one OpenBLAS sgemm over a chunk of the batch (columns ordered
/// sample-major), so the GEMM is wide: out[Cout, nb·HW] = W[Cout, K] · col[K, nb·HW]. The chunk
/// is as large as fits `maxColumnFloats`, so a batch-6 train step at 224 px is one chunk and
/// backward reuses the forward's im2col matrix instead of recomputing it.
///
/// Convolutions that Winograd (below) does not take, with a multiple of 64 output channels and
/// Cin·k² ≤ 2048 taps (AlexNet's features.0), run their forward by implicit GEMM
/// (`ImplicitConvForward`, CKernels' conv_implicit.c): the same sums, tiles of 6 pixels ×
/// 64 channels accumulated straight from a zero-padded band of input rows, no column matrix
/// (their backward then builds it); `seafold bench conv` compares it with im2col (BENCHMARKS.md).
///
/// Stride-1 3×3 convolutions (AlexNet's features.6/8/10) run forward and backward-data through
/// Winograd F(2×2, 3×3) (`Winograd3x3`, 2.25× fewer multiply-adds; from batch 32 the forward
/// uses F(5×5, 3×3), 3.4× fewer at 13×13), stride-1 5×5 ones (features.3) through F(3×3, 5×5)
/// (`WinogradTiled`, 4.6× fewer); the weight gradient stays
/// im2col + GEMM. The transformed filters are kept while the weights are unchanged
/// (`FilterCache`), so inference transforms them once. `options.convolution` (`EngineOptions`,
/// `ConvAlgorithm`) can select im2col everywhere, e.g. to compare the paths.
public final class Conv2d: Layer {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    let inH: Int, inW: Int, outH: Int, outW: Int
    let weight: Parameter, bias: Parameter
    /// How this layer computes (algorithm, im2col budget); an `AlexNet` sets its own here.
    public var options: EngineOptions
    private var maxColumnFloats: Int { options.maxColumnFloats }

    /// The Winograd geometry of the forward and of the backward-data convolution, when it applies.
    private let winogradForward: Winograd3x3?, winogradBackward: Winograd3x3?
    /// Winograd F(3×3, 5×5) for the forward and backward-data passes of stride-1 5×5 layers;
    /// F(5×5, 3×3) for the forward pass of stride-1 3×3 layers at large batches.
    private let tiledForward: WinogradTiled?, tiledBackward: WinogradTiled?
    /// Transformed filters for the forward / backward-data convolution, recomputed whenever the
    /// weights differ from the ones they came from (the optimizer changes them in place).
    private let uForward = FilterCache(), uBackward = FilterCache()
    /// Whether this layer currently runs Winograd (geometry fits, options allow it).
    public var usesWinograd: Bool { (winogradForward != nil || tiledForward != nil) && options.convolution.allowsWinograd }
    /// The forward pass's large-tile Winograd, when in use.
    private var activeTiledForward: WinogradTiled? { options.convolution.allowsLargeTiles ? tiledForward : nil }
    private var activeTiledBackward: WinogradTiled? { options.convolution.allowsLargeTiles ? tiledBackward : nil }
    /// Whether the geometry (k 3 with padding ≤ 2, or k 5 with padding ≤ 4; stride 1) allows
    /// Winograd at all.
    var usesWinogradGeometry: Bool { winogradForward != nil || tiledForward != nil }
    /// The implicit-GEMM forward, when the geometry suits it (`ImplicitConvForward.applies`)
    /// and Winograd does not apply.
    private let implicitForward: ImplicitConvForward?
    /// Whether the forward pass currently runs implicit GEMM (geometry fits, options allow it).
    public var usesImplicitForward: Bool { implicitForward != nil && options.convolution.allowsImplicitGEMM }
    /// Whether the geometry allows the implicit-GEMM forward at all.
    var usesImplicitGeometry: Bool { implicitForward != nil }
    /// The algorithm `ConvAlgorithm.fast` runs for this layer's forward pass, by name.
    func fastPathName(batch: Int) -> String {
        if let t = tiledForward, t.appliesForward(batch: batch) { return "wino F(\(t.m),\(t.r))" }
        if winogradForward != nil { return "wino F(2,3)" }
        return implicitForward != nil ? "implicit" : "im2col"
    }

    private let col = FloatBuffer()
    private let gemmOut = FloatBuffer()
    private let gx = FloatBuffer()
    private let output = FloatBuffer()
    private var input: UnsafeMutablePointer<Float>?
    /// The first sample of the chunk whose im2col matrix is currently in `col`, if any.
    private var colChunk: (start: Int, count: Int)?

    /// `inShape` is the per-sample [C, H, W]; throws when the output would be empty.
    public init(name: String, inShape: [Int], outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                options: EngineOptions = .default) throws {
        self.options = options
        guard inShape.count == 3, kernel > 0, stride > 0, padding >= 0, outChannels > 0 else {
            throw SeafoldError.config(key: name, reason: "invalid Conv2d geometry (input \(inShape), kernel \(kernel), stride \(stride), padding \(padding))")
        }
        inChannels = inShape[0]; inH = inShape[1]; inW = inShape[2]
        self.outChannels = outChannels; self.kernel = kernel; self.stride = stride; self.padding = padding
        let oh = (inH + 2 * padding - kernel) / stride + 1, ow = (inW + 2 * padding - kernel) / stride + 1
        guard inH + 2 * padding >= kernel, inW + 2 * padding >= kernel, oh > 0, ow > 0 else {
            throw SeafoldError.config(key: name, reason: "input \(inH)×\(inW) is too small for kernel \(kernel) with padding \(padding); use a larger input size")
        }
        outH = oh; outW = ow
        if Winograd3x3.applies(kernel: kernel, stride: stride, padding: padding) {
            winogradForward = Winograd3x3(channels: inChannels, outChannels: outChannels, inH: inH, inW: inW, pad: padding)
            winogradBackward = Winograd3x3(channels: outChannels, outChannels: inChannels, inH: oh, inW: ow, pad: 2 - padding)
        } else {
            winogradForward = nil; winogradBackward = nil
        }
        if let m = WinogradTiled.outputTile(kernel: kernel, stride: stride, padding: padding) {
            tiledForward = WinogradTiled(m: m, kernel: kernel, channels: inChannels, outChannels: outChannels,
                                         inH: inH, inW: inW, pad: padding)
            tiledBackward = kernel == 3 ? nil
                : WinogradTiled(m: m, kernel: kernel, channels: outChannels, outChannels: inChannels,
                                inH: oh, inW: ow, pad: kernel - 1 - padding)
        } else {
            tiledForward = nil; tiledBackward = nil
        }
        implicitForward = winogradForward == nil && tiledForward == nil && ImplicitConvForward.applies(inChannels: inChannels, outChannels: outChannels, kernel: kernel)
            ? ImplicitConvForward(inChannels: inChannels, inH: inH, inW: inW, outChannels: outChannels, kernel: kernel,
                                  stride: stride, padding: padding, outH: oh, outW: ow)
            : nil
        weight = Parameter(key: name.isEmpty ? "weight" : name + ".weight", shape: [outChannels, inChannels, kernel, kernel])
        bias = Parameter(key: name.isEmpty ? "bias" : name + ".bias", shape: [outChannels])
        super.init(name: name, inShape: inShape, outShape: [outChannels, oh, ow])
        parameters = [weight, bias]
    }

    var kDim: Int { inChannels * kernel * kernel }
    var hw: Int { outH * outW }
    /// FLOPs of one forward pass for one sample (multiply and add counted separately).
    var forwardFlops: Int { 2 * outChannels * kDim * hw }

    func reset(rng: inout SeededGenerator) { pytorchDefaultInit(weight: weight, bias: bias, fanIn: kDim, rng: &rng) }

    private func chunkSize(_ batch: Int) -> Int { max(1, min(batch, maxColumnFloats / max(kDim * hw, 1))) }

    /// Fills `col` with the im2col matrix of samples start..<start+nb.
    private func im2col(_ x: UnsafePointer<Float>, start: Int, nb: Int) {
        let k = kernel, s = stride, p = padding, ih = inH, iw = inW, oh = outH, ow = outW
        let cols = nb * hw
        let c = col.ptr
        let plane = ih * iw, sampleStride = inChannels * plane
        parallelFor(kDim, minPerThread: 8) { r in
            let ch = r / (k * k), ki = (r / k) % k, kj = r % k
            let row = c + r * cols
            // valid ow range: 0 <= ow*s - p + kj < iw
            let owLo = max(0, (p - kj + s - 1) / s)
            let owHi = min(ow, (iw - 1 + p - kj) / s + 1)
            for n in 0..<nb {
                let src = x + (start + n) * sampleStride + ch * plane
                let dstN = row + n * oh * ow
                for y in 0..<oh {
                    let iy = y * s - p + ki
                    let dst = dstN + y * ow
                    if iy < 0 || iy >= ih || owLo >= owHi {
                        dst.update(repeating: 0, count: ow)
                        continue
                    }
                    let srow = src + iy * iw - p + kj
                    for xo in 0..<owLo { dst[xo] = 0 }
                    if s == 1 {
                        (dst + owLo).update(from: srow + owLo, count: owHi - owLo)
                    } else {
                        for xo in owLo..<owHi { dst[xo] = srow[xo * s] }
                    }
                    for xo in owHi..<ow { dst[xo] = 0 }
                }
            }
        }
        colChunk = (start, nb)
    }

    /// Adds the columns in `col` back into the input gradient (the adjoint of im2col).
    private func col2im(start: Int, nb: Int) {
        let k = kernel, s = stride, p = padding, ih = inH, iw = inW, oh = outH, ow = outW
        let cols = nb * hw
        let c = col.ptr, g = gx.ptr
        let plane = ih * iw, sampleStride = inChannels * plane
        // Parallel over input channels: each channel's rows write only to that channel's plane.
        parallelFor(inChannels) { ch in
            for ki in 0..<k { for kj in 0..<k {
                let row = c + ((ch * k + ki) * k + kj) * cols
                let owLo = max(0, (p - kj + s - 1) / s)
                let owHi = min(ow, (iw - 1 + p - kj) / s + 1)
                if owLo >= owHi { continue }
                for n in 0..<nb {
                    let dst = g + (start + n) * sampleStride + ch * plane
                    let srcN = row + n * oh * ow
                    for y in 0..<oh {
                        let iy = y * s - p + ki
                        if iy < 0 || iy >= ih { continue }
                        let drow = dst + iy * iw - p + kj
                        let srow = srcN + y * ow
                        for xo in owLo..<owHi { drow[xo * s] += srow[xo] }
                    }
                }
            } }
        }
    }

    override func forward(_ x: UnsafeMutablePointer<Float>, batch: Int, training: Bool,
                          rng: inout SeededGenerator) -> UnsafeMutablePointer<Float> {
        input = x
        output.ensure(batch * outCount)
        if let wt = activeTiledForward, wt.appliesForward(batch: batch) {
            let u = uForward.filters(weights: weight.value.ptr, count: weight.count, tag: 1, uFloats: wt.filterFloats) {
                wt.transformFilters(weight.value.ptr, cout: outChannels, cin: inChannels, backwardData: false, into: $0)
            }
            colChunk = nil
            wt.run(x, batch: batch, u: u, bias: bias.value.ptr, y: output.ptr, v: col, m: gemmOut,
                   nbMax: wt.chunk(batch: batch))
            return output.ptr
        }
        if usesWinograd, let wg = winogradForward {
            let u = uForward.filters(weights: weight.value.ptr, count: weight.count, tag: 0, uFloats: 16 * outChannels * inChannels) {
                Winograd3x3.transformFilters(weight.value.ptr, cout: outChannels, cin: inChannels, backwardData: false, into: $0)
            }
            // The transformed input and GEMM output live in the im2col / GEMM buffers.
            colChunk = nil
            wg.run(x, batch: batch, u: u, bias: bias.value.ptr, y: output.ptr, v: col, m: gemmOut,
                   nbMax: wg.chunk(batch: batch, maxFloats: maxColumnFloats))
            return output.ptr
        }
        if usesImplicitForward, let ic = implicitForward {
            colChunk = nil  // backward builds its im2col matrix itself
            ic.run(x, batch: batch, weight: weight.value.ptr, bias: bias.value.ptr, y: output.ptr)
            return output.ptr
        }
        let nbMax = chunkSize(batch)
        col.ensure(kDim * nbMax * hw)
        gemmOut.ensure(outChannels * nbMax * hw)
        output.ensure(batch * outCount)
        var start = 0
        while start < batch {
            let nb = min(nbMax, batch - start)
            im2col(x, start: start, nb: nb)
            let cols = nb * hw
            sgemm(transA: false, transB: false, m: outChannels, n: cols, k: kDim,
                  a: weight.value.ptr, lda: kDim, b: col.ptr, ldb: cols, beta: 0, c: gemmOut.ptr, ldc: cols)
            // [Cout, nb, HW] → [nb, Cout, HW] with the bias added.
            let go = gemmOut.ptr, out = output.ptr, b = bias.value.ptr, hw = self.hw, cout = outChannels
            parallelFor(cout, minPerThread: 4) { co in
                let bv = b[co]
                for n in 0..<nb {
                    let src = go + co * cols + n * hw
                    let dst = out + ((start + n) * cout + co) * hw
                    for i in 0..<hw { dst[i] = src[i] + bv }
                }
            }
            start += nb
        }
        return output.ptr
    }

    override func backward(_ gy: UnsafeMutablePointer<Float>, batch: Int, inputGrad: Bool) -> UnsafeMutablePointer<Float> {
        guard let x = input else { fatalError("Conv2d.backward before forward") }
        let wantW = weight.requiresGrad, wantB = bias.requiresGrad
        let winograd = usesWinograd ? winogradBackward : nil
        let tiled = activeTiledBackward
        let directData = inputGrad && winograd == nil && tiled == nil
        if inputGrad { gx.ensure(batch * inCount) }
        if directData { gx.zero(batch * inCount) }
        if !wantW && !wantB && !inputGrad { return gx.ptr }
        if wantB { bias.grad.zero(outChannels) }
        if wantW || wantB || directData {
            backwardGEMM(gy, x: x, batch: batch, wantW: wantW, wantB: wantB, inputGrad: directData)
        }
        if inputGrad, let wt = tiled {
            let u = uBackward.filters(weights: weight.value.ptr, count: weight.count, tag: 1, uFloats: wt.filterFloats) {
                wt.transformFilters(weight.value.ptr, cout: outChannels, cin: inChannels, backwardData: true, into: $0)
            }
            colChunk = nil
            wt.run(gy, batch: batch, u: u, bias: nil, y: gx.ptr, v: col, m: gemmOut,
                   nbMax: wt.chunk(batch: batch))
        } else if inputGrad, let wg = winograd {
            // gx = full correlation of gy with the flipped, transposed kernel (Winograd);
            // runs after the weight gradient because it reuses the im2col / GEMM buffers.
            let u = uBackward.filters(weights: weight.value.ptr, count: weight.count, tag: 0, uFloats: 16 * outChannels * inChannels) {
                Winograd3x3.transformFilters(weight.value.ptr, cout: outChannels, cin: inChannels, backwardData: true, into: $0)
            }
            colChunk = nil
            wg.run(gy, batch: batch, u: u, bias: nil, y: gx.ptr, v: col, m: gemmOut,
                   nbMax: wg.chunk(batch: batch, maxFloats: maxColumnFloats))
        }
        return gx.ptr
    }

    /// The im2col + GEMM part of backward: bias and weight gradients and, when `inputGrad`,
    /// the input gradient through col2im (`gx` must be zeroed by the caller).
    private func backwardGEMM(_ gy: UnsafeMutablePointer<Float>, x: UnsafeMutablePointer<Float>, batch: Int,
                              wantW: Bool, wantB: Bool, inputGrad: Bool) {
        let nbMax = chunkSize(batch)
        col.ensure(kDim * nbMax * hw)
        gemmOut.ensure(outChannels * nbMax * hw)
        // Chunks in reverse, so the first one handled is the one whose im2col is still in `col`.
        var chunks: [(Int, Int)] = []
        var s0 = 0
        while s0 < batch { chunks.append((s0, min(nbMax, batch - s0))); s0 += nbMax }
        var first = true
        for (start, nb) in chunks.reversed() {
            let cols = nb * hw
            // [nb, Cout, HW] → [Cout, nb·HW] in gemmOut; bias gradient summed on the way.
            let go = gemmOut.ptr, g = gy, hw = self.hw, cout = outChannels
            let db = bias.grad.ptr
            parallelFor(cout, minPerThread: 4) { co in
                var acc: Float = 0
                for n in 0..<nb {
                    let src = g + ((start + n) * cout + co) * hw
                    let dst = go + co * cols + n * hw
                    for i in 0..<hw { let v = src[i]; dst[i] = v; acc += v }
                }
                if wantB { db[co] += acc }
            }
            if wantW {
                if !(colChunk.map { $0.start == start && $0.count == nb } ?? false) { im2col(x, start: start, nb: nb) }
                sgemm(transA: false, transB: true, m: outChannels, n: kDim, k: cols,
                      a: gemmOut.ptr, lda: cols, b: col.ptr, ldb: cols, beta: first ? 0 : 1,
                      c: weight.grad.ptr, ldc: kDim)
            }
            if inputGrad {
                sgemm(transA: true, transB: false, m: kDim, n: cols, k: outChannels,
                      a: weight.value.ptr, lda: kDim, b: gemmOut.ptr, ldb: cols, beta: 0, c: col.ptr, ldc: cols)
                colChunk = nil
                col2im(start: start, nb: nb)
            }
            first = false
        }
    }
}

import SeafoldCore

/// Max pooling with a square window, no padding, floor mode (PyTorch `nn.MaxPool2d(k, s)`, as
/// torchvision's AlexNet uses with k 3, s 2). Ties go to the first maximum in row-major order,
/// like PyTorch's CPU kernel; the gradient flows only to that element.
public final class MaxPool2d: Layer {
    public let kernel: Int, stride: Int
    let c: Int, ih: Int, iw: Int, oh: Int, ow: Int
    private let output = FloatBuffer(), gx = FloatBuffer()
    private let argmax = IndexBuffer()

    public init(name: String, inShape: [Int], kernel: Int = 3, stride: Int = 2) throws {
        guard inShape.count == 3, kernel > 0, stride > 0, inShape[1] >= kernel, inShape[2] >= kernel else {
            throw SeafoldError.config(key: name, reason: "MaxPool2d(\(kernel), \(stride)) needs an input of at least \(kernel)×\(kernel), got \(inShape); use a larger input size")
        }
        self.kernel = kernel; self.stride = stride
        c = inShape[0]; ih = inShape[1]; iw = inShape[2]
        oh = (ih - kernel) / stride + 1; ow = (iw - kernel) / stride + 1
        super.init(name: name, inShape: inShape, outShape: [c, oh, ow])
    }

    /// The input of the last forward; backward finds the arg-max there (the layer contract keeps
    /// it alive until then), so the forward pass — all that inference runs — writes no indices.
    private var input: UnsafeMutablePointer<Float>?

    override func forward(_ x: UnsafeMutablePointer<Float>, batch: Int, training: Bool,
                          rng: inout SeededGenerator) -> UnsafeMutablePointer<Float> {
        output.ensure(batch * outCount)
        input = x
        let out = output.ptr
        let k = kernel, s = stride, ih = ih, iw = iw, oh = oh, ow = ow
        parallelFor(batch * c, minPerThread: 16) { plane in
            let src = x + plane * ih * iw
            let dst = out + plane * oh * ow
            // Separable: the maximum over the window's k rows for every input column (contiguous,
            // vectorisable), then over k columns at stride s. `v > m || v != v` keeps a NaN once
            // seen, so a window with a NaN gives NaN like PyTorch.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: iw) { tmpBuf in
                let tmp = tmpBuf.baseAddress!
                for y in 0..<oh {
                    let r0 = src + y * s * iw
                    tmp.update(from: r0, count: iw)
                    for ky in 1..<k {
                        let r = r0 + ky * iw
                        for xx in 0..<iw { let v = r[xx], m = tmp[xx]; tmp[xx] = (v > m || v != v) ? v : m }
                    }
                    let d = dst + y * ow
                    for xo in 0..<ow {
                        let t = tmp + xo * s
                        var m = t[0]
                        for kx in 1..<k { let v = t[kx]; m = (v > m || v != v) ? v : m }
                        d[xo] = m
                    }
                }
            }
        }
        return out
    }

    /// The arg-max of every window of plane `plane` of the last input: the first maximum in
    /// row-major order (PyTorch's CPU kernel); a NaN wins (the gradient flows to a NaN input).
    private func findArgmax(_ x: UnsafePointer<Float>, plane: Int, into idx: UnsafeMutablePointer<Int32>) {
        let k = kernel, s = stride, iw = iw
        let src = x + plane * ih * iw
        for y in 0..<oh { for xo in 0..<ow {
            var best = -Float.infinity, bi = -1
            for ky in 0..<k {
                let r = (y * s + ky) * iw + xo * s
                for kx in 0..<k {
                    let v = src[r + kx]
                    if v > best || bi < 0 || v.isNaN { best = v; bi = r + kx; if v.isNaN { break } }
                }
            }
            idx[y * ow + xo] = Int32(bi)
        } }
    }

    override func backward(_ gy: UnsafeMutablePointer<Float>, batch: Int, inputGrad: Bool) -> UnsafeMutablePointer<Float> {
        gx.ensure(batch * inCount)
        if !inputGrad { return gx.ptr }
        guard let x = input else { fatalError("MaxPool2d.backward before forward") }
        gx.zero(batch * inCount)
        argmax.ensure(batch * outCount)
        let g = gx.ptr, am = argmax.ptr, inPlane = ih * iw, outPlane = oh * ow
        parallelFor(batch * c, minPerThread: 16) { plane in
            let idx = am + plane * outPlane
            self.findArgmax(x, plane: plane, into: idx)
            let dst = g + plane * inPlane, src = gy + plane * outPlane
            for i in 0..<outPlane { dst[Int(idx[i])] += src[i] }
        }
        return g
    }
}

/// Adaptive average pooling to a fixed output size (PyTorch `nn.AdaptiveAvgPool2d`): output
/// cell i averages input rows floor(i·in/out) ..< ceil((i+1)·in/out), and likewise for columns.
/// Windows may overlap (when in/out is not an integer) or repeat rows (when in < out).
public final class AdaptiveAvgPool2d: Layer {
    let c: Int, ih: Int, iw: Int, oh: Int, ow: Int
    private let output = FloatBuffer(), gx = FloatBuffer()

    public init(name: String, inShape: [Int], outputSize: (Int, Int)) throws {
        guard inShape.count == 3, inShape[1] > 0, inShape[2] > 0, outputSize.0 > 0, outputSize.1 > 0 else {
            throw SeafoldError.config(key: name, reason: "AdaptiveAvgPool2d needs a non-empty input, got \(inShape)")
        }
        c = inShape[0]; ih = inShape[1]; iw = inShape[2]; oh = outputSize.0; ow = outputSize.1
        super.init(name: name, inShape: inShape, outShape: [c, oh, ow])
    }

    @inline(__always) static func window(_ i: Int, _ inSize: Int, _ outSize: Int) -> Range<Int> {
        let lo = (i * inSize) / outSize
        let hi = ((i + 1) * inSize + outSize - 1) / outSize
        return lo..<hi
    }

    override func forward(_ x: UnsafeMutablePointer<Float>, batch: Int, training: Bool,
                          rng: inout SeededGenerator) -> UnsafeMutablePointer<Float> {
        output.ensure(batch * outCount)
        let out = output.ptr, ih = ih, iw = iw, oh = oh, ow = ow
        for plane in 0..<(batch * c) {
            let src = x + plane * ih * iw, dst = out + plane * oh * ow
            for y in 0..<oh {
                let ry = Self.window(y, ih, oh)
                for xo in 0..<ow {
                    let rx = Self.window(xo, iw, ow)
                    var acc: Float = 0
                    for yy in ry { for xx in rx { acc += src[yy * iw + xx] } }
                    dst[y * ow + xo] = acc / Float(ry.count * rx.count)
                }
            }
        }
        return out
    }

    override func backward(_ gy: UnsafeMutablePointer<Float>, batch: Int, inputGrad: Bool) -> UnsafeMutablePointer<Float> {
        gx.ensure(batch * inCount)
        if !inputGrad { return gx.ptr }
        gx.zero(batch * inCount)
        let g = gx.ptr, ih = ih, iw = iw, oh = oh, ow = ow
        for plane in 0..<(batch * c) {
            let dst = g + plane * ih * iw, src = gy + plane * oh * ow
            for y in 0..<oh {
                let ry = Self.window(y, ih, oh)
                for xo in 0..<ow {
                    let rx = Self.window(xo, iw, ow)
                    let v = src[y * ow + xo] / Float(ry.count * rx.count)
                    for yy in ry { for xx in rx { dst[yy * iw + xx] += v } }
                }
            }
        }
        return g
    }
}

import XCTest
@testable import Engine
import SeafoldCore

/// Central-difference gradient checks: loss L = Σ r·y for a fixed random r, so dL/dy = r.
/// The loss is accumulated in Double so the difference quotient is not drowned by rounding.
enum GradCheck {
    static func randomTensor(_ shape: [Int], _ rng: inout SeededGenerator, lo: Float = -1, hi: Float = 1) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.uniform(lo, hi) })
    }

    static func weightedSum(_ y: Tensor, _ r: Tensor) -> Double {
        var s = 0.0
        for i in 0..<y.count { s += Double(y.data[i]) * Double(r.data[i]) }
        return s
    }

    /// max |a − b| / max |b|: the difference from a reference `b` relative to its magnitude
    /// (how the conv tests compare Winograd / implicit GEMM with im2col).
    static func maxRelative(_ a: [Float], _ b: [Float]) -> Double {
        var d = 0.0, m = 0.0
        for (u, v) in zip(a, b) { d = max(d, Double(abs(u - v))); m = max(m, Double(abs(v))) }
        return d / max(m, 1e-30)
    }

    /// Relative error ‖a − n‖ / max(‖n‖, tiny) of analytic `a` versus numeric `n`.
    static func relError(_ a: [Double], _ n: [Double]) -> Double {
        var num = 0.0, den = 0.0
        for i in 0..<a.count { num += (a[i] - n[i]) * (a[i] - n[i]); den += n[i] * n[i] }
        return (num / max(den, 1e-30)).squareRoot()
    }

    /// Checks input and parameter gradients of `layer` at `x`; returns the worst relative error.
    static func check(_ layer: Layer, x: Tensor, h: Float = 1e-2, training: Bool = false, seed: UInt64 = 1,
                      file: StaticString = #filePath, line: UInt = #line, tolerance: Double = 1e-3) {
        var rng = SeededGenerator(seed: 99)
        var fwdRNG = SeededGenerator(seed: seed)
        let y = layer.forward(x, training: training, rng: &fwdRNG)
        let r = randomTensor(y.shape, &rng)
        let gx = layer.backward(r)
        let gParams = layer.parameters.map { $0.gradient }
        func loss(_ xx: Tensor) -> Double {
            var g = SeededGenerator(seed: seed)   // same dropout mask every time
            return weightedSum(layer.forward(xx, training: training, rng: &g), r)
        }
        var numX = [Double](repeating: 0, count: x.count)
        for i in 0..<x.count {
            var xp = x, xm = x
            xp.data[i] += h; xm.data[i] -= h
            numX[i] = (loss(xp) - loss(xm)) / Double(2 * h)
        }
        let ex = relError(gx.data.map(Double.init), numX)
        XCTAssertLessThan(ex, tolerance, "\(type(of: layer)) input gradient", file: file, line: line)
        for (pi, p) in layer.parameters.enumerated() {
            var num = [Double](repeating: 0, count: p.count)
            for i in 0..<p.count {
                let v = p.value.ptr[i]
                p.value.ptr[i] = v + h; let lp = loss(x)
                p.value.ptr[i] = v - h; let lm = loss(x)
                p.value.ptr[i] = v
                num[i] = (lp - lm) / Double(2 * h)
            }
            let e = relError(gParams[pi].data.map(Double.init), num)
            XCTAssertLessThan(e, tolerance, "\(p.key) gradient", file: file, line: line)
        }
    }
}

final class LayerGradientTests: XCTestCase {
    func testConvStride2PaddingNonSquare() throws {
        var rng = SeededGenerator(seed: 1)
        let conv = try Conv2d(name: "c", inShape: [3, 7, 9], outChannels: 4, kernel: 3, stride: 2, padding: 1)
        conv.reset(rng: &rng)
        XCTAssertEqual(conv.outShape, [4, 4, 5])
        GradCheck.check(conv, x: GradCheck.randomTensor([2, 3, 7, 9], &rng))
    }

    func testConvLargeKernelStride4() throws {
        var rng = SeededGenerator(seed: 2)
        let conv = try Conv2d(name: "c", inShape: [2, 13, 11], outChannels: 3, kernel: 5, stride: 4, padding: 2)
        conv.reset(rng: &rng)
        GradCheck.check(conv, x: GradCheck.randomTensor([2, 2, 13, 11], &rng))
    }

    func testConvChunkedBatchMatchesOneChunk() throws {
        // A batch split into several im2col chunks must give the same forward and gradients.
        var rng = SeededGenerator(seed: 3)
        let conv = try Conv2d(name: "c", inShape: [2, 6, 6], outChannels: 3, kernel: 3, stride: 1, padding: 1)
        conv.reset(rng: &rng)
        let saved = conv.options.maxColumnFloats
        conv.options.maxColumnFloats = 2 * 18 * 36   // two samples per im2col chunk → chunks 2, 2, 1
        let x = GradCheck.randomTensor([5, 2, 6, 6], &rng)
        let r = GradCheck.randomTensor([5, 3, 6, 6], &rng)
        var g = SeededGenerator(seed: 0)
        let y1 = conv.forward(x, training: true, rng: &g); let gx1 = conv.backward(r); let gw1 = conv.weight.gradient
        // Reference: one sample at a time, weight gradients summed.
        conv.options.maxColumnFloats = saved
        var gwSum = [Float](repeating: 0, count: conv.weight.count)
        for n in 0..<5 {
            let per = 2 * 36, perY = 3 * 36
            let xs = Tensor(shape: [1, 2, 6, 6], data: Array(x.data[n * per..<(n + 1) * per]))
            let ys = conv.forward(xs, training: true, rng: &g)
            XCTAssertEqual(ys.data, Array(y1.data[n * perY..<(n + 1) * perY]))
            let gxs = conv.backward(Tensor(shape: [1, 3, 6, 6], data: Array(r.data[n * perY..<(n + 1) * perY])))
            for (a, b) in zip(gxs.data, gx1.data[n * per..<(n + 1) * per]) { XCTAssertEqual(a, b, accuracy: 1e-5) }
            for i in 0..<gwSum.count { gwSum[i] += conv.weight.grad.ptr[i] }
        }
        for (a, b) in zip(gwSum, gw1.data) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    func testLinear() throws {
        var rng = SeededGenerator(seed: 4)
        let l = try Linear(name: "fc", inFeatures: 7, outFeatures: 5)
        l.reset(rng: &rng)
        GradCheck.check(l, x: GradCheck.randomTensor([3, 7], &rng))
    }

    func testMaxPool() throws {
        var rng = SeededGenerator(seed: 5)
        let m = try MaxPool2d(name: "p", inShape: [2, 7, 8], kernel: 3, stride: 2)
        XCTAssertEqual(m.outShape, [2, 3, 3])
        // Distinct values at least 0.05 apart so ±h never switches the arg-max.
        var perm = rng.permutation(2 * 2 * 7 * 8)
        let x = Tensor(shape: [2, 2, 7, 8], data: perm.map { Float($0) * 0.05 })
        perm.removeAll()
        GradCheck.check(m, x: x, h: 1e-2)
    }

    func testAdaptiveAvgPoolNonDivisible() throws {
        var rng = SeededGenerator(seed: 6)
        for (inH, inW, o) in [(5, 7, 3), (2, 3, 6), (13, 13, 6)] {
            let a = try AdaptiveAvgPool2d(name: "a", inShape: [2, inH, inW], outputSize: (o, o))
            GradCheck.check(a, x: GradCheck.randomTensor([2, 2, inH, inW], &rng))
        }
    }

    func testReLU() {
        var rng = SeededGenerator(seed: 7)
        let r = ReLU(name: "r", shape: [10])
        // Keep inputs away from the kink at 0.
        var x = GradCheck.randomTensor([3, 10], &rng)
        x.data = x.data.map { $0 >= 0 ? $0 + 0.1 : $0 - 0.1 }
        GradCheck.check(r, x: x)
    }

    func testDropoutFixedMask() throws {
        var rng = SeededGenerator(seed: 8)
        let d = try Dropout(name: "d", shape: [50], p: 0.5)
        let x = GradCheck.randomTensor([4, 50], &rng)
        GradCheck.check(d, x: x, training: true, seed: 11)
        // Inverted scaling: every output is 0 or 2·x; about half are kept.
        var g = SeededGenerator(seed: 11)
        let y = d.forward(x, training: true, rng: &g)
        var kept = 0
        for i in 0..<x.count {
            if y.data[i] != 0 { kept += 1; XCTAssertEqual(y.data[i], 2 * x.data[i]) }
        }
        XCTAssert(kept > 70 && kept < 130, "kept \(kept) of 200")
        // Eval mode is the identity.
        XCTAssertEqual(d.forward(x, training: false, rng: &g).data, x.data)
    }

    func testCrossEntropyGradientAndValue() {
        var rng = SeededGenerator(seed: 9)
        let logits = GradCheck.randomTensor([3, 4], &rng, lo: -3, hi: 3)
        let labels = [2, 0, 3]
        var grad = [Float](repeating: 0, count: 12)
        let (loss, _) = logits.data.withUnsafeBufferPointer { l in grad.withUnsafeMutableBufferPointer { g in
            SoftmaxCrossEntropy.compute(logits: l.baseAddress!, batch: 3, classes: 4, labels: labels, grad: g.baseAddress!)
        } }
        func ref(_ z: [Float]) -> Double {
            var t = 0.0
            for n in 0..<3 {
                let row = (0..<4).map { Double(z[n * 4 + $0]) }
                t += log(row.map { exp($0) }.reduce(0, +)) - row[labels[n]]
            }
            return t / 3
        }
        XCTAssertEqual(Double(loss), ref(logits.data), accuracy: 1e-6)
        var num = [Double](repeating: 0, count: 12)
        for i in 0..<12 {
            var p = logits.data, m = logits.data
            p[i] += 1e-2; m[i] -= 1e-2
            num[i] = (ref(p) - ref(m)) / 2e-2
        }
        XCTAssertLessThan(GradCheck.relError(grad.map(Double.init), num), 1e-4)
        // Stable for huge logits.
        let big: [Float] = [1000, 0, -1000]
        let (l2, c2) = big.withUnsafeBufferPointer {
            SoftmaxCrossEntropy.compute(logits: $0.baseAddress!, batch: 1, classes: 3, labels: [1], grad: nil)
        }
        XCTAssertEqual(l2, 1000, accuracy: 1e-3)
        XCTAssertEqual(c2, 0)
    }
}

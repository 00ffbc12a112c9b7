import CKernels
import XCTest
@testable import Engine
import SeafoldCore

/// The implicit-GEMM forward convolution (CKernels' conv_implicit.c via `ImplicitConvForward`)
/// against im2col + GEMM (`ConvAlgorithm.im2col`) and a hand-computed example, at every
/// instruction-set level this CPU has; and its independence of the work split and thread count.
final class ImplicitConvTests: XCTestCase {
    override func tearDown() {
        ParallelConfig.threads = 2
        seafold_kernels_force_level(-1)
    }

    private var levels: [Int32] { Array(0...seafold_kernels_level()) }


    private func implicit(_ conv: Conv2d, rowsPerItem: Int? = nil) -> ImplicitConvForward {
        ImplicitConvForward(inChannels: conv.inChannels, inH: conv.inH, inW: conv.inW, outChannels: conv.outChannels,
                            kernel: conv.kernel, stride: conv.stride, padding: conv.padding, outH: conv.outH, outW: conv.outW,
                            rowsPerItem: rowsPerItem)
    }

    /// Runs the implicit forward of `conv`'s geometry and weights on x.
    private func runImplicit(_ conv: Conv2d, _ x: Tensor, rowsPerItem: Int? = nil) -> [Float] {
        let batch = x.shape[0]
        let y = FloatBuffer(count: batch * conv.outCount)
        let xb = FloatBuffer(); xb.copy(from: x.data)
        implicit(conv, rowsPerItem: rowsPerItem).run(xb.ptr, batch: batch, weight: conv.weight.value.ptr,
                                                     bias: conv.bias.value.ptr, y: y.ptr)
        return y.array(batch * conv.outCount)
    }

    private func runIm2col(_ conv: Conv2d, _ x: Tensor) -> [Float] {
        conv.options.convolution = .im2col
        defer { conv.options.convolution = .fast }
        var g = SeededGenerator(seed: 0)
        return conv.forward(x, training: false, rng: &g).data
    }

    func testGeometrySelection() throws {
        try XCTSkipUnless(seafold_conv_implicit_vectorized() != 0, "no AVX2+FMA / AVX-512F: Conv2d keeps im2col")
        let f0 = try Conv2d(name: "f0", inShape: [3, 224, 224], outChannels: 64, kernel: 11, stride: 4, padding: 2)
        XCTAssertTrue(f0.usesImplicitGeometry)
        XCTAssertTrue(f0.usesImplicitForward)
        f0.options.convolution = .im2col
        XCTAssertFalse(f0.usesImplicitForward, "the im2col setting must select im2col")
        f0.options.convolution = .winogradF23
        XCTAssertFalse(f0.usesImplicitForward, "the winograd-F(2,3) setting has no implicit GEMM")
        f0.options.convolution = .fast
        // features.3 (stride-1 5×5) is Winograd F(3×3, 5×5)'s, which is decided first.
        let f3 = try Conv2d(name: "f3", inShape: [64, 27, 27], outChannels: 192, kernel: 5, stride: 1, padding: 2)
        XCTAssertFalse(f3.usesImplicitGeometry)
        XCTAssertTrue(f3.usesWinograd)
        // Channel counts the 64-wide tile would pad, weights beyond 2048 taps per channel, and
        // Winograd's stride-1 3×3 layers stay as they were.
        XCTAssertFalse(try Conv2d(name: "c", inShape: [3, 32, 32], outChannels: 48, kernel: 11, stride: 4, padding: 2).usesImplicitGeometry)
        XCTAssertFalse(try Conv2d(name: "c", inShape: [256, 9, 9], outChannels: 64, kernel: 3, stride: 2, padding: 1).usesImplicitGeometry)
        let f6 = try Conv2d(name: "f6", inShape: [192, 13, 13], outChannels: 384, kernel: 3, stride: 1, padding: 1)
        XCTAssertFalse(f6.usesImplicitGeometry)
        XCTAssertTrue(f6.usesWinograd)
    }

    /// All-ones 5×5 input, kernel 1..9, stride 2, padding 1, bias 0.5 → 3×3 output: each
    /// pixel is 0.5 plus the sum of the kernel taps that fall inside the image, e.g. the corner
    /// 5+6+8+9 = 28, the centre 45, the last corner 1+2+4+5 = 12.
    func testHandComputedAtEveryLevel() throws {
        let conv = try Conv2d(name: "c", inShape: [1, 5, 5], outChannels: 1, kernel: 3, stride: 2, padding: 1)
        conv.weight.set(Tensor(shape: [1, 1, 3, 3], data: (1...9).map(Float.init)))
        conv.bias.set(Tensor(shape: [1], data: [0.5]))
        let x = Tensor(shape: [1, 1, 5, 5], data: [Float](repeating: 1, count: 25))
        let expect: [Float] = [28, 39, 24, 33, 45, 27, 16, 21, 12].map { $0 + 0.5 }
        for level in levels {
            seafold_kernels_force_level(level)
            XCTAssertEqual(runImplicit(conv, x), expect, "level \(level)")
        }
        XCTAssertEqual(runIm2col(conv, x), expect)
    }

    /// Against im2col + GEMM on features.0's own geometry (batch 2, and batch 1 at 67 px),
    /// features.3's (batch 1) and on
    /// odd ones: padding wider than the stride, output channels not a multiple of 64 (zero-padded
    /// tile), 1×1 kernels, outputs of a single pixel, sizes that leave partial pixel tiles.
    func testMatchesIm2colAtEveryLevel() throws {
        let cases: [(cin: Int, cout: Int, h: Int, w: Int, k: Int, s: Int, p: Int, batch: Int)] = [
            (3, 64, 224, 224, 11, 4, 2, 2),  // features.0
            (3, 64, 67, 67, 11, 4, 2, 1),
            (64, 192, 27, 27, 5, 1, 2, 1),   // features.3
            (2, 5, 9, 7, 3, 2, 1, 3),
            (1, 70, 5, 6, 5, 1, 2, 2),
            (4, 64, 13, 11, 11, 4, 2, 2),
            (3, 128, 10, 9, 1, 1, 0, 2),
            (3, 64, 8, 8, 3, 3, 0, 1),
            (5, 17, 6, 6, 6, 1, 0, 3),       // one output pixel per sample
            (7, 33, 12, 17, 4, 3, 3, 2),     // padding ≥ stride on all sides
        ]
        var rng = SeededGenerator(seed: 21)
        var worst = 0.0
        for c in cases {
            let conv = try Conv2d(name: "c", inShape: [c.cin, c.h, c.w], outChannels: c.cout, kernel: c.k, stride: c.s, padding: c.p)
            conv.reset(rng: &rng)
            let x = GradCheck.randomTensor([c.batch, c.cin, c.h, c.w], &rng, lo: -2, hi: 2)
            let ref = runIm2col(conv, x)
            for level in levels {
                seafold_kernels_force_level(level)
                let y = runImplicit(conv, x)
                let e = GradCheck.maxRelative(y, ref)
                worst = max(worst, e)
                XCTAssertLessThan(e, 1e-5, "level \(level), \(c)")
            }
            seafold_kernels_force_level(-1)
        }
        print("implicit GEMM vs im2col: worst max-relative difference \(worst)")
    }

    /// The same bytes whatever the rows per work item and the thread count, at every level.
    func testWorkSplitAndThreadIndependence() throws {
        var rng = SeededGenerator(seed: 5)
        let conv = try Conv2d(name: "c", inShape: [3, 45, 43], outChannels: 64, kernel: 11, stride: 4, padding: 2)
        conv.reset(rng: &rng)
        let x = GradCheck.randomTensor([3, 3, 45, 43], &rng, lo: -2, hi: 2)
        for level in levels {
            seafold_kernels_force_level(level)
            ParallelConfig.threads = 2
            let base = runImplicit(conv, x).map(\.bitPattern)
            for rows in [1, 2, 3, 7, 10, 100] {
                XCTAssertEqual(runImplicit(conv, x, rowsPerItem: rows).map(\.bitPattern), base, "level \(level), rows \(rows)")
            }
            ParallelConfig.threads = 1
            XCTAssertEqual(runImplicit(conv, x).map(\.bitPattern), base, "level \(level), 1 thread")
        }
    }

    /// Conv2d with features.0's geometry dispatches its forward to implicit GEMM, and the
    /// backward that follows (which then builds its own im2col matrix) gives the same bytes as
    /// after an im2col forward.
    func testConv2dDispatchAndBackward() throws {
        try XCTSkipUnless(seafold_conv_implicit_vectorized() != 0, "no AVX2+FMA / AVX-512F: Conv2d keeps im2col")
        var rng = SeededGenerator(seed: 8)
        let conv = try Conv2d(name: "f0", inShape: [3, 67, 67], outChannels: 64, kernel: 11, stride: 4, padding: 2)
        conv.reset(rng: &rng)
        let x = GradCheck.randomTensor([2, 3, 67, 67], &rng, lo: -2, hi: 2)
        let gy = GradCheck.randomTensor([2] + conv.outShape, &rng, lo: -1e-2, hi: 1e-2)
        func pass(direct: Bool) -> (y: [Float], gx: [Float], gw: [Float], gb: [Float]) {
            conv.options.convolution = direct ? .im2col : .fast
            XCTAssertEqual(conv.usesImplicitForward, !direct)
            var g = SeededGenerator(seed: 0)
            let y = conv.forward(x, training: true, rng: &g)
            let gx = conv.backward(gy)
            return (y.data, gx.data, conv.weight.gradient.data, conv.bias.gradient.data)
        }
        let d = pass(direct: true), i = pass(direct: false)
        XCTAssertEqual(i.y.map(\.bitPattern), runImplicit(conv, x).map(\.bitPattern))
        XCTAssertLessThan(GradCheck.maxRelative(i.y, d.y), 1e-5)
        XCTAssertEqual(i.gx.map(\.bitPattern), d.gx.map(\.bitPattern), "input gradient")
        XCTAssertEqual(i.gw.map(\.bitPattern), d.gw.map(\.bitPattern), "weight gradient")
        XCTAssertEqual(i.gb.map(\.bitPattern), d.gb.map(\.bitPattern), "bias gradient")
    }
}

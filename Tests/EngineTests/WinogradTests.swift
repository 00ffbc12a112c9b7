import XCTest
@testable import Engine
import SeafoldCore

/// Winograd F(2×2, 3×3) convolutions against the direct (im2col) convolution, finite
/// differences, and thread-count independence.
final class WinogradTests: XCTestCase {
    override func tearDown() {
        ParallelConfig.threads = 2
    }

    /// Forward output, input gradient, weight gradient and bias gradient with one path.
    private func run(_ conv: Conv2d, x: Tensor, gy: Tensor, direct: Bool) -> (y: [Float], gx: [Float], gw: [Float], gb: [Float]) {
        conv.options.convolution = direct ? .im2col : .fast
        XCTAssertEqual(conv.usesWinograd, !direct && conv.usesWinogradGeometry)
        var g = SeededGenerator(seed: 0)
        let y = conv.forward(x, training: true, rng: &g)
        let gx = conv.backward(gy)
        return (y.data, gx.data, conv.weight.gradient.data, conv.bias.gradient.data)
    }


    func testGeometrySelection() throws {
        XCTAssertTrue(try Conv2d(name: "c", inShape: [2, 5, 5], outChannels: 2, kernel: 3, stride: 1, padding: 1).usesWinogradGeometry)
        XCTAssertTrue(try Conv2d(name: "c", inShape: [2, 5, 5], outChannels: 2, kernel: 3, stride: 1, padding: 0).usesWinogradGeometry)
        XCTAssertFalse(try Conv2d(name: "c", inShape: [2, 5, 5], outChannels: 2, kernel: 3, stride: 2, padding: 1).usesWinogradGeometry)
        XCTAssertTrue(try Conv2d(name: "c", inShape: [2, 9, 9], outChannels: 2, kernel: 5, stride: 1, padding: 2).usesWinogradGeometry)
        XCTAssertFalse(try Conv2d(name: "c", inShape: [2, 9, 9], outChannels: 2, kernel: 5, stride: 2, padding: 2).usesWinogradGeometry)
        XCTAssertFalse(try Conv2d(name: "c", inShape: [2, 9, 9], outChannels: 2, kernel: 7, stride: 1, padding: 3).usesWinogradGeometry)
        XCTAssertFalse(try Conv2d(name: "c", inShape: [2, 9, 9], outChannels: 2, kernel: 3, stride: 1, padding: 3).usesWinogradGeometry)
    }

    /// A 3×3 hand example: all-ones 4×4 input, kernel 1..9, padding 0 → 2×2 output of 45 each;
    /// with padding 1 the corner sees 5+6+8+9 = 28, the next pixel 4+5+6+7+8+9 = 39, the first
    /// pixel of row 1 2+3+5+6+8+9 = 33 and its last 1+2+4+5+7+8 = 27.
    func testHandComputed() throws {
        for (pad, expect) in [(0, [Float](repeating: 45, count: 4)), (1, [28, 39, 39, 24, 33, 45, 45, 27])] {
            let conv = try Conv2d(name: "c", inShape: [1, 4, 4], outChannels: 1, kernel: 3, stride: 1, padding: pad)
            conv.weight.set(Tensor(shape: [1, 1, 3, 3], data: (1...9).map(Float.init)))
            conv.bias.set(Tensor(shape: [1], data: [0]))
            var g = SeededGenerator(seed: 0)
            let y = conv.forward(Tensor(shape: [1, 1, 4, 4], data: [Float](repeating: 1, count: 16)), training: false, rng: &g)
            XCTAssertTrue(conv.usesWinograd)
            XCTAssertEqual(Array(y.data.prefix(expect.count)), expect)
        }
    }

    /// Winograd against im2col on odd sizes (partial tiles), every padding it handles, and
    /// on an AlexNet-sized layer with PyTorch-initialised weights and post-ReLU-like inputs.
    func testMatchesDirectConvolution() throws {
        let cases: [(cin: Int, cout: Int, h: Int, w: Int, pad: Int, batch: Int)] = [
            (3, 4, 7, 9, 1, 3), (5, 2, 6, 5, 0, 2), (2, 3, 5, 8, 2, 2), (1, 1, 3, 3, 1, 1),
            (64, 48, 13, 13, 1, 4),
        ]
        var rng = SeededGenerator(seed: 11)
        var worst = 0.0
        for c in cases {
            let conv = try Conv2d(name: "c", inShape: [c.cin, c.h, c.w], outChannels: c.cout, kernel: 3, stride: 1, padding: c.pad)
            conv.reset(rng: &rng)
            let x = GradCheck.randomTensor([c.batch, c.cin, c.h, c.w], &rng, lo: 0, hi: 2)
            let gy = GradCheck.randomTensor([c.batch] + conv.outShape, &rng, lo: -1e-2, hi: 1e-2)
            let d = run(conv, x: x, gy: gy, direct: true)
            let w = run(conv, x: x, gy: gy, direct: false)
            let ey = GradCheck.maxRelative(w.y, d.y), egx = GradCheck.maxRelative(w.gx, d.gx)
            worst = max(worst, ey, egx)
            XCTAssertLessThan(ey, 1e-5, "forward \(c)")
            XCTAssertLessThan(egx, 1e-5, "input gradient \(c)")
            // The weight and bias gradients use the same im2col + GEMM in both paths.
            XCTAssertEqual(w.gw.map(\.bitPattern), d.gw.map(\.bitPattern), "weight gradient \(c)")
            XCTAssertEqual(w.gb.map(\.bitPattern), d.gb.map(\.bitPattern), "bias gradient \(c)")
        }
        print("Winograd vs im2col: worst max-relative difference \(worst)")
    }

    func testFiniteDifferences() throws {
        var rng = SeededGenerator(seed: 12)
        for pad in [0, 1, 2] {
            let conv = try Conv2d(name: "c", inShape: [3, 5, 7], outChannels: 4, kernel: 3, stride: 1, padding: pad)
            conv.reset(rng: &rng)
            XCTAssertTrue(conv.usesWinograd)
            GradCheck.check(conv, x: GradCheck.randomTensor([2, 3, 5, 7], &rng))
        }
    }

    /// One thread or two, chunked or not (chunk boundaries depend on the shape only): the same bytes.
    func testSameBytesOnOneAndTwoThreads() throws {
        var rng = SeededGenerator(seed: 13)
        let conv = try Conv2d(name: "c", inShape: [48, 13, 13], outChannels: 64, kernel: 3, stride: 1, padding: 1)
        conv.reset(rng: &rng)
        let x = GradCheck.randomTensor([5, 48, 13, 13], &rng)
        let gy = GradCheck.randomTensor([5, 64, 13, 13], &rng)
        for budget in [EngineOptions.default.maxColumnFloats, 16 * 64 * 49 * 2] {   // one chunk; chunks of 2 samples
            conv.options.maxColumnFloats = budget
            ParallelConfig.threads = 1
            let a = run(conv, x: x, gy: gy, direct: false)
            ParallelConfig.threads = 2
            let b = run(conv, x: x, gy: gy, direct: false)
            XCTAssertEqual(a.y.map(\.bitPattern), b.y.map(\.bitPattern))
            XCTAssertEqual(a.gx.map(\.bitPattern), b.gx.map(\.bitPattern))
            XCTAssertEqual(a.gw.map(\.bitPattern), b.gw.map(\.bitPattern))
        }
    }

    /// The whole tiny AlexNet trained for two steps: identical bytes on one and two threads.
    func testTrainStepsSameBytesOnOneAndTwoThreads() throws {
        func train(threads: Int) throws -> [String: Tensor] {
            ParallelConfig.threads = threads
            let net = try AlexNet(config: AlexNetConfig(numClasses: 3, widthMultiplier: 0.25, inputSize: 95, hiddenWidth: 16), seed: 4)
            let t = try Trainer(model: net, optimizer: Adam(lr: 1e-3))
            var rng = SeededGenerator(seed: 5)
            for _ in 0..<2 {
                let x = GradCheck.randomTensor([3, 3, 95, 95], &rng)
                try t.step(input: x, labels: [0, 1, 2], rng: &rng)
            }
            return net.stateDict()
        }
        let a = try train(threads: 1), b = try train(threads: 2)
        for (k, v) in a { XCTAssertEqual(v.data.map(\.bitPattern), b[k]!.data.map(\.bitPattern), k) }
    }
}

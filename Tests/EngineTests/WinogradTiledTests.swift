import XCTest
import CKernels
@testable import Engine
import SeafoldCore

/// Winograd F(3×3, 5×5) and F(5×5, 3×3) (`WinogradTiled`, C transforms) and their Cook–Toom matrices: the 1-D
/// identity in double precision, the 5×5 convolution against im2col forward and backward,
/// finite differences, thread-count and instruction-set independence, and the filter cache.
final class WinogradTiledTests: XCTestCase {
    override func tearDown() {
        ParallelConfig.threads = 2
        seafold_kernels_force_level(-1)
    }

    /// y_i = Σ_k g_k d_{i+k} = Σ_j Aᵀ[i][j] (G g)_j (Bᵀ d)_j for random g, d, in double: the
    /// construction is exact up to rounding for every tile the points allow.
    func testCookToomIdentity() {
        var rng = SeededGenerator(seed: 21)
        for (m, r) in [(2, 3), (4, 3), (5, 3), (6, 3), (2, 5), (3, 5), (4, 5)] {
            let w = WinogradMatrices(m: m, r: r), n = w.n
            for _ in 0..<5 {
                let g = (0..<r).map { _ in Double(rng.uniform(-1, 1)) }
                let d = (0..<n).map { _ in Double(rng.uniform(-1, 1)) }
                let gg = (0..<n).map { j in (0..<r).reduce(0.0) { $0 + w.g[j * r + $1] * g[$1] } }
                let dd = (0..<n).map { j in (0..<n).reduce(0.0) { $0 + w.bt[j * n + $1] * d[$1] } }
                for i in 0..<m {
                    let expect = (0..<r).reduce(0.0) { $0 + g[$1] * d[i + $1] }
                    let got = (0..<n).reduce(0.0) { $0 + w.at[i * n + $1] * gg[$1] * dd[$1] }
                    XCTAssertEqual(got, expect, accuracy: 1e-10, "F(\(m), \(r)) output \(i)")
                }
            }
        }
    }

    /// The F(2, 3) matrices from these points are Lavin & Gray's up to the sign of each row pair.
    func testF23MatchesPaperUpToSign() {
        let w = WinogradMatrices(m: 2, r: 3)
        XCTAssertEqual(w.points, [0, 1, -1])
        // Bᵀ row 0 is the polynomial (x − 1)(x + 1) = −1 + x²; the paper's row is [1 0 −1 0].
        XCTAssertEqual(w.bt[0..<4].map { $0 }, [-1, 0, 1, 0])
        XCTAssertEqual(w.g[0..<3].map { $0 }, [-1, 0, 0])
        XCTAssertEqual(w.g[3..<6].map { $0 }, [0.5, 0.5, 0.5])
        XCTAssertEqual(w.at, [1, 1, 1, 0, 0, 1, -1, 1])
    }

    private func output(_ conv: Conv2d, x: Tensor, gy: Tensor, algorithm: ConvAlgorithm) -> (y: [Float], gx: [Float], gw: [Float]) {
        conv.options.convolution = algorithm
        var g = SeededGenerator(seed: 0)
        let y = conv.forward(x, training: true, rng: &g)
        let gx = conv.backward(gy)
        return (y.data, gx.data, conv.weight.gradient.data)
    }


    /// Every padding 0…4 (backward-data uses 4 − p), sizes that leave partial tiles, batch 1,
    /// and AlexNet's features.3 at 27×27 with PyTorch-initialised weights.
    func testMatchesIm2col() throws {
        let cases: [(cin: Int, cout: Int, h: Int, w: Int, pad: Int, batch: Int)] = [
            (3, 4, 9, 11, 2, 3), (2, 3, 7, 5, 0, 2), (4, 2, 8, 10, 1, 1), (1, 1, 5, 5, 4, 1),
            (2, 5, 6, 13, 3, 2), (64, 32, 27, 27, 2, 2),
        ]
        var rng = SeededGenerator(seed: 22)
        var worst = 0.0
        for c in cases {
            let conv = try Conv2d(name: "c", inShape: [c.cin, c.h, c.w], outChannels: c.cout, kernel: 5, stride: 1, padding: c.pad)
            conv.reset(rng: &rng)
            let x = GradCheck.randomTensor([c.batch, c.cin, c.h, c.w], &rng, lo: 0, hi: 2)
            let gy = GradCheck.randomTensor([c.batch] + conv.outShape, &rng, lo: -1e-2, hi: 1e-2)
            let d = output(conv, x: x, gy: gy, algorithm: .im2col)
            let w = output(conv, x: x, gy: gy, algorithm: .fast)
            XCTAssertTrue(conv.usesWinograd)
            let ey = GradCheck.maxRelative(w.y, d.y), egx = GradCheck.maxRelative(w.gx, d.gx)
            worst = max(worst, ey, egx)
            XCTAssertLessThan(ey, 1e-4, "forward \(c)")
            XCTAssertLessThan(egx, 1e-4, "input gradient \(c)")
            XCTAssertEqual(w.gw.map(\.bitPattern), d.gw.map(\.bitPattern), "weight gradient \(c)")
        }
        print("F(3×3, 5×5) vs im2col: worst max-relative difference \(worst)")
    }

    /// F(5×5, 3×3) for 3×3 forward passes from batch 32 (13×13 as in AlexNet, and sizes that
    /// leave partial tiles); below it, F(2×2, 3×3). Both against im2col.
    func testLargeTiles3x3FromBatch32() throws {
        var rng = SeededGenerator(seed: 26)
        var worst = 0.0
        for (cin, cout, h, w, pad) in [(16, 8, 13, 13, 1), (3, 4, 7, 9, 0), (2, 3, 6, 11, 2)] {
            let conv = try Conv2d(name: "c", inShape: [cin, h, w], outChannels: cout, kernel: 3, stride: 1, padding: pad)
            conv.reset(rng: &rng)
            XCTAssertEqual(conv.fastPathName(batch: 31), "wino F(2,3)")
            XCTAssertEqual(conv.fastPathName(batch: 32), "wino F(5,3)")
            for batch in [31, 32] {
                let x = GradCheck.randomTensor([batch, cin, h, w], &rng, lo: 0, hi: 2)
                let gy = GradCheck.randomTensor([batch] + conv.outShape, &rng, lo: -1e-2, hi: 1e-2)
                let d = output(conv, x: x, gy: gy, algorithm: .im2col)
                let t = output(conv, x: x, gy: gy, algorithm: .fast)
                let e = GradCheck.maxRelative(t.y, d.y)
                worst = max(worst, e)
                XCTAssertLessThan(e, 1e-4, "forward batch \(batch)")
                XCTAssertLessThan(GradCheck.maxRelative(t.gx, d.gx), 1e-5, "input gradient (F(2×2, 3×3)) batch \(batch)")
                if batch == 32 {
                    // The tiled forward is a different computation from F(2×2, 3×3)'s.
                    let f2 = output(conv, x: x, gy: gy, algorithm: .winogradF23)
                    XCTAssertNotEqual(t.y.map(\.bitPattern), f2.y.map(\.bitPattern))
                    XCTAssertLessThan(GradCheck.maxRelative(f2.y, d.y), 1e-5)
                }
            }
        }
        print("F(5×5, 3×3) vs im2col: worst max-relative difference \(worst)")
    }

    /// A hand example: all-ones 5×5 input, kernel 1…25, padding 0 → one output, 325.
    func testHandComputed() throws {
        let conv = try Conv2d(name: "c", inShape: [1, 5, 5], outChannels: 1, kernel: 5, stride: 1, padding: 0)
        conv.weight.set(Tensor(shape: [1, 1, 5, 5], data: (1...25).map(Float.init)))
        conv.bias.set(Tensor(shape: [1], data: [0.5]))
        var g = SeededGenerator(seed: 0)
        let y = conv.forward(Tensor(shape: [1, 1, 5, 5], data: [Float](repeating: 1, count: 25)), training: false, rng: &g)
        XCTAssertTrue(conv.usesWinograd)
        XCTAssertEqual(y.data.count, 1)
        XCTAssertEqual(Double(y.data[0]), 325.5, accuracy: 1e-3)
    }

    func testFiniteDifferences() throws {
        var rng = SeededGenerator(seed: 23)
        for pad in [0, 2] {
            let conv = try Conv2d(name: "c", inShape: [2, 7, 8], outChannels: 3, kernel: 5, stride: 1, padding: pad)
            conv.reset(rng: &rng)
            XCTAssertTrue(conv.usesWinograd)
            GradCheck.check(conv, x: GradCheck.randomTensor([2, 2, 7, 8], &rng))
        }
    }

    /// One thread or two, and every instruction-set level the CPU has: the same bytes.
    func testSameBytesOnThreadsAndInstructionSets() throws {
        var rng = SeededGenerator(seed: 24)
        let conv = try Conv2d(name: "c", inShape: [24, 27, 27], outChannels: 40, kernel: 5, stride: 1, padding: 2)
        conv.reset(rng: &rng)
        let x = GradCheck.randomTensor([3, 24, 27, 27], &rng)
        let gy = GradCheck.randomTensor([3, 40, 27, 27], &rng)
        ParallelConfig.threads = 2
        let reference = output(conv, x: x, gy: gy, algorithm: .fast)
        // F(5×5, 3×3) at batch 32 (its chunks of 43 samples hold the whole batch).
        let conv3 = try Conv2d(name: "c3", inShape: [8, 13, 13], outChannels: 12, kernel: 3, stride: 1, padding: 1)
        conv3.reset(rng: &rng)
        let x3 = GradCheck.randomTensor([32, 8, 13, 13], &rng)
        let gy3 = GradCheck.randomTensor([32, 12, 13, 13], &rng)
        let reference3 = output(conv3, x: x3, gy: gy3, algorithm: .fast)
        for level in Array(0...seafold_kernels_level()) {
            for threads in [1, 2] {
                seafold_kernels_force_level(level)
                ParallelConfig.threads = threads
                let o = output(conv, x: x, gy: gy, algorithm: .fast)
                XCTAssertEqual(o.y.map(\.bitPattern), reference.y.map(\.bitPattern), "level \(level), \(threads) threads")
                XCTAssertEqual(o.gx.map(\.bitPattern), reference.gx.map(\.bitPattern), "level \(level), \(threads) threads")
                let o3 = output(conv3, x: x3, gy: gy3, algorithm: .fast)
                XCTAssertEqual(o3.y.map(\.bitPattern), reference3.y.map(\.bitPattern), "3×3, level \(level), \(threads) threads")
            }
        }
    }

    /// The cached transformed filters follow the weights: after an in-place change the output
    /// is the new weights' (matching im2col), and with the old weights back, the old bytes.
    func testFilterCacheFollowsWeights() throws {
        var rng = SeededGenerator(seed: 25)
        for kernel in [3, 5] {
            let conv = try Conv2d(name: "c", inShape: [4, 9, 9], outChannels: 3, kernel: kernel, stride: 1, padding: 1)
            conv.reset(rng: &rng)
            let x = GradCheck.randomTensor([2, 4, 9, 9], &rng)
            var g = SeededGenerator(seed: 0)
            conv.options.convolution = .fast
            let before = conv.forward(x, training: false, rng: &g).data
            let original = conv.weight.value.ptr[7]
            conv.weight.value.ptr[7] = original + 0.5     // as an optimizer writes it: in place
            let changed = conv.forward(x, training: false, rng: &g).data
            conv.options.convolution = .im2col
            let direct = conv.forward(x, training: false, rng: &g).data
            XCTAssertLessThan(GradCheck.maxRelative(changed, direct), 1e-4, "kernel \(kernel)")
            XCTAssertGreaterThan(GradCheck.maxRelative(changed, before), 1e-3, "kernel \(kernel): the change must show")
            conv.options.convolution = .fast
            conv.weight.value.ptr[7] = original
            let back = conv.forward(x, training: false, rng: &g).data
            XCTAssertEqual(back.map(\.bitPattern), before.map(\.bitPattern), "kernel \(kernel)")
        }
    }
}

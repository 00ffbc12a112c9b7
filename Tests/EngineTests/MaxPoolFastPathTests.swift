import XCTest
@testable import Engine
import SeafoldCore

/// The separable max-pool forward against a naive window maximum, NaN propagation, and the
/// arg-max rule of the backward (first maximum in row-major order, found from the kept input).
final class MaxPoolFastPathTests: XCTestCase {
    func testMatchesNaiveWindowMaximum() throws {
        var rng = SeededGenerator(seed: 21)
        for (h, w, k, s) in [(13, 13, 3, 2), (9, 12, 3, 2), (8, 7, 2, 2), (10, 11, 3, 3), (6, 6, 1, 1)] {
            let pool = try MaxPool2d(name: "p", inShape: [3, h, w], kernel: k, stride: s)
            let x = GradCheck.randomTensor([2, 3, h, w], &rng)
            var g = SeededGenerator(seed: 0)
            let y = pool.forward(x, training: false, rng: &g)
            let oh = (h - k) / s + 1, ow = (w - k) / s + 1
            for plane in 0..<6 { for i in 0..<oh { for j in 0..<ow {
                var m = -Float.infinity
                for a in 0..<k { for b in 0..<k { m = max(m, x.data[plane * h * w + (i * s + a) * w + j * s + b]) } }
                XCTAssertEqual(y.data[(plane * oh + i) * ow + j], m, "\(h)×\(w) k\(k) s\(s)")
            } } }
        }
    }

    func testNaNPropagatesAndTiesGoToTheFirstMaximum() throws {
        let pool = try MaxPool2d(name: "p", inShape: [1, 3, 5], kernel: 3, stride: 2)
        // Window 0 (columns 0–2) has a tie of 7 at (0,1) and (2,0); window 1 (columns 2–4) a NaN.
        var v = [Float](repeating: 0, count: 15)
        v[1] = 7; v[10] = 7; v[9] = .nan
        var g = SeededGenerator(seed: 0)
        let y = pool.forward(Tensor(shape: [1, 1, 3, 5], data: v), training: true, rng: &g)
        XCTAssertEqual(y.data[0], 7)
        XCTAssertTrue(y.data[1].isNaN)
        let gx = pool.backward(Tensor(shape: [1, 1, 1, 2], data: [1, 2]))
        XCTAssertEqual(gx.data[1], 1, "gradient goes to the first 7 in row-major order")
        XCTAssertEqual(gx.data[10], 0)
        XCTAssertEqual(gx.data[9], 2, "gradient goes to the NaN")
    }
}

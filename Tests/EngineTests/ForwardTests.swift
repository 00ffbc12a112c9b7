import XCTest
@testable import Engine
import SeafoldCore

/// Forward passes checked against values worked out by hand.
final class ForwardTests: XCTestCase {
    var rng = SeededGenerator(seed: 0)

    func testConvHandComputed() throws {
        // 3×3 input 1…9, 2×2 kernel of ones, bias 0.5: sums of each 2×2 window + 0.5.
        let c = try Conv2d(name: "c", inShape: [1, 3, 3], outChannels: 1, kernel: 2)
        c.weight.set(Tensor(shape: [1, 1, 2, 2], data: [1, 1, 1, 1]))
        c.bias.set(Tensor(shape: [1], data: [0.5]))
        let y = c.forward(Tensor(shape: [1, 1, 3, 3], data: (1...9).map(Float.init)), training: false, rng: &rng)
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        XCTAssertEqual(y.data, [12.5, 16.5, 24.5, 28.5])
    }

    func testConvStridePaddingPicksExpectedPixels() throws {
        // Kernel 3 with only the centre tap: with padding 1 and stride 2 it samples x[0,0], x[0,2], x[2,0], x[2,2].
        let c = try Conv2d(name: "c", inShape: [1, 4, 4], outChannels: 1, kernel: 3, stride: 2, padding: 1)
        var w = [Float](repeating: 0, count: 9); w[4] = 1
        c.weight.set(Tensor(shape: [1, 1, 3, 3], data: w))
        c.bias.set(Tensor(shape: [1], data: [0]))
        let y = c.forward(Tensor(shape: [1, 1, 4, 4], data: (0..<16).map(Float.init)), training: false, rng: &rng)
        XCTAssertEqual(y.data, [0, 2, 8, 10])
        // Top-left tap only: the padded corner is 0, then x[1,1], etc.
        w = [Float](repeating: 0, count: 9); w[0] = 1
        c.weight.set(Tensor(shape: [1, 1, 3, 3], data: w))
        let y2 = c.forward(Tensor(shape: [1, 1, 4, 4], data: (0..<16).map(Float.init)), training: false, rng: &rng)
        XCTAssertEqual(y2.data, [0, 0, 0, 5])
    }

    func testConvChannelsAndWeightLayout() throws {
        // Two input channels, two output channels; weight [out, in, k, k] as PyTorch, k = 1.
        let c = try Conv2d(name: "c", inShape: [2, 1, 2], outChannels: 2, kernel: 1)
        c.weight.set(Tensor(shape: [2, 2, 1, 1], data: [1, 10, 100, 1000]))
        c.bias.set(Tensor(shape: [2], data: [0, 1]))
        // x channel 0 = [1, 2], channel 1 = [3, 4]
        let y = c.forward(Tensor(shape: [1, 2, 1, 2], data: [1, 2, 3, 4]), training: false, rng: &rng)
        XCTAssertEqual(y.data, [31, 42, 3101, 4201])
    }

    func testMaxPoolFloorMode() throws {
        let m = try MaxPool2d(name: "p", inShape: [1, 5, 5])
        let y = m.forward(Tensor(shape: [1, 1, 5, 5], data: (0..<25).map(Float.init)), training: false, rng: &rng)
        XCTAssertEqual(y.data, [12, 14, 22, 24])
        // 6×6 → floor((6−3)/2)+1 = 2 (ceil mode would give 3).
        XCTAssertEqual(try MaxPool2d(name: "p", inShape: [1, 6, 6]).outShape, [1, 2, 2])
        XCTAssertEqual(try MaxPool2d(name: "p", inShape: [1, 55, 55]).outShape, [1, 27, 27])
    }

    func testAdaptiveAvgPoolWindows() throws {
        // 1×5 → 1×3: windows [0,2), [1,4), [3,5) → means 0.5, 2, 3.5
        let a = try AdaptiveAvgPool2d(name: "a", inShape: [1, 1, 5], outputSize: (1, 3))
        let y = a.forward(Tensor(shape: [1, 1, 1, 5], data: [0, 1, 2, 3, 4]), training: false, rng: &rng)
        XCTAssertEqual(y.data, [0.5, 2, 3.5])
        // 1×1 → 2×2 replicates.
        let b = try AdaptiveAvgPool2d(name: "a", inShape: [1, 1, 1], outputSize: (2, 2))
        XCTAssertEqual(b.forward(Tensor(shape: [1, 1, 1, 1], data: [7]), training: false, rng: &rng).data, [7, 7, 7, 7])
    }

    func testLinearHandComputed() throws {
        let l = try Linear(name: "fc", inFeatures: 2, outFeatures: 3)
        l.weight.set(Tensor(shape: [3, 2], data: [1, 2, 3, 4, 5, 6]))
        l.bias.set(Tensor(shape: [3], data: [0.1, 0.2, 0.3]))
        let y = l.forward(Tensor(shape: [2, 2], data: [1, 2, -1, 0]), training: false, rng: &rng)
        XCTAssertEqual(y.data[0], 5.1, accuracy: 1e-6); XCTAssertEqual(y.data[1], 11.2, accuracy: 1e-6)
        XCTAssertEqual(y.data[2], 17.3, accuracy: 1e-6); XCTAssertEqual(y.data[3], -0.9, accuracy: 1e-6)
        XCTAssertEqual(y.data[4], -2.8, accuracy: 1e-6); XCTAssertEqual(y.data[5], -4.7, accuracy: 1e-6)
    }
}

import Foundation
import XCTest
@testable import Engine
import SeafoldCore

/// `EngineOptions` is per network: two networks with different options run side by side in one
/// process, each computing exactly what it computes alone; `AlexNet.options` reaches every
/// layer. And `AdamUpdate`, the element update shared with Classifiers' head, equals `Adam`.
final class EngineOptionsTests: XCTestCase {
    static let config = AlexNetConfig(numClasses: 3, widthMultiplier: 0.25, inputSize: 67, hiddenWidth: 32)

    private func logits(_ net: AlexNet, _ x: Tensor) throws -> [UInt32] {
        var rng = SeededGenerator(seed: 0)
        return try net.forward(x, training: false, rng: &rng).data.map(\.bitPattern)
    }

    func testTwoNetworksWithDifferentOptionsCoexist() throws {
        var rng = SeededGenerator(seed: 31)
        let x = GradCheck.randomTensor([2, 3, 67, 67], &rng, lo: -2, hi: 2)
        // Each setting alone, in a network of its own.
        let aloneDirect = try logits(try AlexNet(config: Self.config, seed: 9, options: EngineOptions(convolution: .im2col)), x)
        let aloneFast = try logits(try AlexNet(config: Self.config, seed: 9), x)
        XCTAssertNotEqual(aloneDirect, aloneFast, "im2col and Winograd differ by rounding somewhere, or this test proves nothing")
        // Both alive at once, calls interleaved: neither sees the other's setting.
        let direct = try AlexNet(config: Self.config, seed: 9, options: EngineOptions(convolution: .im2col))
        let fast = try AlexNet(config: Self.config, seed: 9, options: .default)
        for _ in 0..<2 {
            XCTAssertEqual(try logits(direct, x), aloneDirect)
            XCTAssertEqual(try logits(fast, x), aloneFast)
        }
        let convs = { (net: AlexNet) in net.layers.compactMap { $0 as? Conv2d } }
        XCTAssertFalse(convs(direct).contains { $0.usesWinograd || $0.usesImplicitForward })
        XCTAssertTrue(convs(fast).contains { $0.usesWinograd })
    }

    func testNetworkOptionsReachEveryLayer() throws {
        let net = try AlexNet(config: Self.config, seed: 1)
        XCTAssertEqual(net.options, .default)
        net.options = EngineOptions(convolution: .winogradF23, deferredWeightGradients: false)
        try net.replaceOutputLayer(numClasses: 4, seed: 2)
        for l in net.layers {
            if let c = l as? Conv2d { XCTAssertEqual(c.options, net.options, c.name) }
            if let c = l as? Linear { XCTAssertEqual(c.options, net.options, c.name) }
        }
        XCTAssertEqual(net.layers.compactMap { $0 as? Linear }.count, 3)
    }

    /// The default is the engine's normal behaviour: the fast algorithms and deferred FC gradients.
    func testDefaults() {
        XCTAssertEqual(EngineOptions.default.convolution, .fast)
        XCTAssertTrue(EngineOptions.default.deferredWeightGradients)
        XCTAssertEqual(EngineOptions(), .default)
    }

    /// `AdamUpdate.apply` on arrays (the FC head's path) gives the bytes `Adam.step` gives a
    /// parameter, step after step, with and without weight decay.
    func testAdamUpdateOnArraysEqualsAdam() throws {
        for wd: Float in [0, 0.01] {
            var rng = SeededGenerator(seed: 44)
            let layer = try Linear(name: "fc", inFeatures: 37, outFeatures: 5)
            layer.reset(rng: &rng)
            let opt = Adam(lr: 3e-3, beta1: 0.8, beta2: 0.99, eps: 1e-7, weightDecay: wd)
            var p = layer.weight.value.array(layer.weight.count)
            var m = [Float](repeating: 0, count: p.count), v = m
            for t in 1...4 {
                let g = (0..<p.count).map { _ in rng.uniform(-0.5, 0.5) }
                layer.weight.grad.copy(from: g)
                layer.bias.requiresGrad = false
                opt.step(layer.parameters)
                AdamUpdate.apply(p: &p, g: g, m: &m, v: &v, step: t, lr: 3e-3, beta1: 0.8, beta2: 0.99, eps: 1e-7, weightDecay: wd)
                XCTAssertEqual(p.map(\.bitPattern), layer.weight.value.array(p.count).map(\.bitPattern), "wd \(wd), step \(t)")
            }
            XCTAssertEqual(opt.state()["fc.weight.exp_avg"]?.data.map(\.bitPattern), m.map(\.bitPattern))
            XCTAssertEqual(opt.state()["fc.weight.exp_avg_sq"]?.data.map(\.bitPattern), v.map(\.bitPattern))
        }
    }
}

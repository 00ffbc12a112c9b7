import XCTest
@testable import Engine
import SeafoldCore

final class AlexNetTests: XCTestCase {
    static let tiny = AlexNetConfig(numClasses: 3, widthMultiplier: 0.0625, inputSize: 63, hiddenWidth: 16, dropout: 0.5)

    func testTorchvisionKeysAndParameterCount() throws {
        let net = try AlexNet(config: AlexNetConfig(numClasses: 1000), seed: 1)
        XCTAssertEqual(net.parameterKeys, ["features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias",
            "features.6.weight", "features.6.bias", "features.8.weight", "features.8.bias", "features.10.weight", "features.10.bias",
            "classifier.1.weight", "classifier.1.bias", "classifier.4.weight", "classifier.4.bias", "classifier.6.weight", "classifier.6.bias"])
        XCTAssertEqual(net.parameterCount, 61_100_840)
        let sd = net.stateDict()
        XCTAssertEqual(sd["features.0.weight"]?.shape, [64, 3, 11, 11])
        XCTAssertEqual(sd["classifier.1.weight"]?.shape, [4096, 9216])
        // Spatial sizes of torchvision's AlexNet at 224 px: 55, 27, 27, 13, 13, 6.
        let conv = net.layers.compactMap { $0 as? Conv2d }
        XCTAssertEqual(conv.map { $0.outShape[1] }, [55, 27, 13, 13, 13])
        // 0.71 G multiply-adds per image.
        XCTAssertEqual(Double(net.forwardFlopsPerImage) / 1e9, 1.43, accuracy: 0.02)
    }

    func testPyTorchDefaultInitBounds() throws {
        let net = try AlexNet(config: AlexNetConfig(numClasses: 10, widthMultiplier: 0.25, inputSize: 96, hiddenWidth: 64), seed: 3)
        let weights = Dictionary(uniqueKeysWithValues: net.parameters.map { ($0.key, $0.shape) })
        for p in net.parameters {
            // fan_in = in_channels·k·k (conv) or in_features (linear), from the layer's weight.
            let fanIn = weights[p.key.replacingOccurrences(of: ".bias", with: ".weight")]!.dropFirst().reduce(1, *)
            let bound = Float(1 / Double(fanIn).squareRoot())
            let d = p.tensor.data
            XCTAssert(d.allSatisfy { abs($0) <= bound }, p.key)
            // Uniform on ±bound: the largest |value| is close to the bound for big tensors.
            if d.count > 500 { XCTAssertGreaterThan(d.map(abs).max()!, 0.95 * bound, p.key) }
        }
    }

    func testSmallInputSizesAndErrors() throws {
        for s in [63, 64, 95, 96, 127, 224] {
            let net = try AlexNet(config: AlexNetConfig(numClasses: 2, widthMultiplier: 0.0625, inputSize: s, hiddenWidth: 8), seed: 0)
            XCTAssertEqual(net.layers[net.layerIndex("avgpool")!].outShape.suffix(2), [6, 6])
        }
        XCTAssertThrowsError(try AlexNet(config: AlexNetConfig(numClasses: 2, inputSize: 62), seed: 0))
        XCTAssertThrowsError(try AlexNet(config: AlexNetConfig(numClasses: 0), seed: 0))
        let net = try AlexNet(config: Self.tiny, seed: 0)
        var rng = SeededGenerator(seed: 0)
        XCTAssertThrowsError(try net.forward(Tensor(zeros: [1, 3, 64, 64]), training: false, rng: &rng))
    }

    func testLoadErrorsNameKeyAndShapes() throws {
        let net = try AlexNet(config: Self.tiny, seed: 0)
        var sd = net.stateDict()
        sd["classifier.6.weight"] = Tensor(zeros: [4, 16])
        XCTAssertThrowsError(try net.load(stateDict: sd)) { e in
            let s = "\(e)"
            XCTAssert(s.contains("classifier.6.weight") && s.contains("[3, 16]") && s.contains("[4, 16]"), s)
        }
        sd = net.stateDict(); sd.removeValue(forKey: "features.3.bias")
        XCTAssertThrowsError(try net.load(stateDict: sd)) { XCTAssert("\($0)".contains("features.3.bias")) }
        XCTAssertNoThrow(try net.load(stateDict: sd, strict: false))
        sd = net.stateDict(); sd["features.1.weight"] = Tensor(zeros: [1])
        XCTAssertThrowsError(try net.load(stateDict: sd)) { XCTAssert("\($0)".contains("features.1.weight")) }
        // A successful load copies the values.
        let other = try AlexNet(config: Self.tiny, seed: 9)
        try net.load(stateDict: other.stateDict())
        XCTAssertEqual(net.stateDict(), other.stateDict())
    }

    func testReplaceOutputLayerAndEvalHelpers() throws {
        let net = try AlexNet(config: Self.tiny, seed: 0)
        try net.replaceOutputLayer(numClasses: 5, seed: 7)
        XCTAssertEqual(net.stateDict()["classifier.6.weight"]?.shape, [5, 16])
        var rng = SeededGenerator(seed: 1)
        let x = GradCheck.randomTensor([3, 3, 63, 63], &rng)
        let p = try net.probabilities(x)
        XCTAssertEqual(p.shape, [3, 5])
        for n in 0..<3 { XCTAssertEqual(p.data[n * 5..<(n + 1) * 5].reduce(0, +), 1, accuracy: 1e-5) }
        let f = try net.penultimateFeatures(x)
        XCTAssertEqual(f.shape, [3, 16])
        XCTAssert(f.data.allSatisfy { $0 >= 0 })   // after classifier.5's ReLU
        // Logits = classifier.6 applied to the features; eval forward is deterministic.
        let logits = try net.forward(x, training: false, rng: &rng)
        let w = net.stateDict()["classifier.6.weight"]!, b = net.stateDict()["classifier.6.bias"]!
        for n in 0..<3 { for c in 0..<5 {
            var acc = Double(b.data[c])
            for j in 0..<16 { acc += Double(f.data[n * 16 + j]) * Double(w.data[c * 16 + j]) }
            XCTAssertEqual(Double(logits.data[n * 5 + c]), acc, accuracy: 1e-4)
        } }
        // Micro-batching in eval gives the same features.
        net.evalBatchSize = 2
        for (u, v) in zip(try net.penultimateFeatures(x).data, f.data) { XCTAssertEqual(u, v, accuracy: 1e-5) }
    }

    /// End-to-end finite differences through a tiny AlexNet (63 px), dropout active with a fixed
    /// mask: checks every parameter tensor on a sample of its elements. The loss is computed in
    /// Float, so with h = 1e-3 rounding limits agreement to a few per cent on the small early-layer
    /// gradients; a wrong stride or transposition gives errors of order 1 (the per-layer checks
    /// above are tight to 1e-3).
    func testEndToEndGradientTinyAlexNet() throws {
        let cfg = AlexNetConfig(numClasses: 3, widthMultiplier: 0.0625, inputSize: 63, hiddenWidth: 12, dropout: 0.3)
        let net = try AlexNet(config: cfg, seed: 5)
        var rng = SeededGenerator(seed: 2)
        let x = GradCheck.randomTensor([2, 3, 63, 63], &rng)
        let labels = [0, 2]
        func loss() throws -> Double {
            var g = SeededGenerator(seed: 77)
            let logits = try net.forward(x, training: true, rng: &g)
            var t = 0.0
            for n in 0..<2 {
                let row = (0..<3).map { Double(logits.data[n * 3 + $0]) }
                let mx = row.max()!
                t += mx + log(row.map { exp($0 - mx) }.reduce(0, +)) - row[labels[n]]
            }
            return t / 2
        }
        var g = SeededGenerator(seed: 77)
        _ = try net.trainForwardBackward(x, labels: labels, training: true, rng: &g)
        let h: Float = 1e-3
        for p in net.parameters {
            let analytic = p.gradient.data
            var pick = SeededGenerator(seed: 3)
            let idx = p.count <= 24 ? Array(0..<p.count) : (0..<24).map { _ in pick.nextInt(below: p.count) }
            var a: [Double] = [], n: [Double] = []
            for i in idx {
                let v = p.value.ptr[i]
                p.value.ptr[i] = v + h; let lp = try loss()
                p.value.ptr[i] = v - h; let lm = try loss()
                p.value.ptr[i] = v
                a.append(Double(analytic[i])); n.append((lp - lm) / Double(2 * h))
            }
            let e = GradCheck.relError(a, n)
            XCTAssertLessThan(e, 5e-2, "\(p.key): relative error \(e)")
        }
    }
}

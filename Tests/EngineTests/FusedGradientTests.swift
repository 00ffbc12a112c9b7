import TestSupport
import XCTest
@testable import Engine
import SeafoldCore

/// The deferred low-rank Linear weight gradient and Adam's fused pass over it.
final class FusedGradientTests: XCTestCase {
    /// Hidden width 512 puts classifier.1 (576→512) and classifier.4 (512→512) above the
    /// deferral threshold (2¹⁸ elements) at batch ≤ 8; classifier.6 (512→3) stays dense.
    static let config = AlexNetConfig(numClasses: 3, widthMultiplier: 0.0625, inputSize: 63, hiddenWidth: 512, dropout: 0.5)

    override func tearDown() { ParallelConfig.threads = 2 }

    private func linearRun(deferred: Bool, batch: Int = 6) throws -> (Linear, [Float], [Float]) {
        let l = try Linear(name: "fc", inFeatures: 640, outFeatures: 512, options: EngineOptions(deferredWeightGradients: deferred))
        var rng = SeededGenerator(seed: 11)
        l.reset(rng: &rng)
        let x = Tensor(shape: [batch, 640], data: (0..<(batch * 640)).map { _ in rng.uniform(-1, 1) })
        let gy = Tensor(shape: [batch, 512], data: (0..<(batch * 512)).map { _ in rng.uniform(-1, 1) })
        _ = l.forward(x, training: true, rng: &rng)
        _ = l.backward(gy)
        return (l, x.data, gy.data)
    }

    /// Reading `grad` of a deferred gradient materialises it with the sgemm the dense path
    /// uses, so it is bit-identical to the dense gradient; the deferral is then gone.
    func testGradientMaterialisesOnDemandBitIdentical() throws {
        let (dense, _, _) = try linearRun(deferred: false)
        let (lazy, _, _) = try linearRun(deferred: true)
        XCTAssertFalse(dense.weight.gradientIsDeferred)
        XCTAssertTrue(lazy.weight.gradientIsDeferred)
        XCTAssertFalse(lazy.bias.gradientIsDeferred)
        XCTAssertEqual(lazy.weight.gradient.data.map(\.bitPattern), dense.weight.gradient.data.map(\.bitPattern))
        XCTAssertFalse(lazy.weight.gradientIsDeferred)
        // A dense backward after a deferred one drops the stale factors and writes the dense gradient.
        let (again, x, gy) = try linearRun(deferred: true)
        XCTAssertTrue(again.weight.gradientIsDeferred)
        again.options.deferredWeightGradients = false
        _ = again.backward(Tensor(shape: [6, 512], data: gy))
        XCTAssertFalse(again.weight.gradientIsDeferred)
        XCTAssertEqual(again.weight.gradient.data.map(\.bitPattern), dense.weight.gradient.data.map(\.bitPattern))
        _ = x
        // Too large a batch, or a small layer: no deferral.
        let (big, _, _) = try linearRun(deferred: true, batch: Linear.deferredGradientMaxBatch + 1)
        XCTAssertFalse(big.weight.gradientIsDeferred)
        // SGD reads `grad`, so it works unchanged on a deferred gradient.
        let (a, _, _) = try linearRun(deferred: true), (b, _, _) = try linearRun(deferred: false)
        SGD(lr: 0.1, momentum: 0.9).step(a.parameters); SGD(lr: 0.1, momentum: 0.9).step(b.parameters)
        XCTAssertEqual(a.weight.tensor, b.weight.tensor)
    }

    /// The fused Adam equals dense Adam fed the gradient summed in the fixed order
    /// (n = 0, 1, …, Float multiply then add), bit for bit; and that gradient is within the
    /// classic summation bound of the sgemm gradient: |ĝ − g| ≤ 2·γₙ·Σₙ|a||b|, γₙ = n·u/(1−n·u).
    func testFusedAdamEqualsAdamOnFixedOrderGradient() throws {
        let batch = 6
        let (fused, x, gy) = try linearRun(deferred: true, batch: batch)
        let (dense, _, _) = try linearRun(deferred: false, batch: batch)
        let rows = 512, cols = 640
        var fixed = [Float](repeating: 0, count: rows * cols)
        let u = Double(Float.ulpOfOne) / 2, gamma = Double(batch) * u / (1 - Double(batch) * u)
        let sgemmGrad = dense.weight.gradient.data
        var worst = 0.0
        for r in 0..<rows { for c in 0..<cols {
            var g = gy[r] * x[c], absSum = Double(abs(gy[r] * x[c]))
            for n in 1..<batch { g = g + gy[n * rows + r] * x[n * cols + c]; absSum += Double(abs(gy[n * rows + r] * x[n * cols + c])) }
            fixed[r * cols + c] = g
            let diff = abs(Double(g) - Double(sgemmGrad[r * cols + c]))
            XCTAssertLessThanOrEqual(diff, 2 * gamma * absSum + 1e-30, "element \(r),\(c)")
            worst = max(worst, diff / max(absSum, 1e-30))
        }}
        // Dense Adam on the fixed-order gradient (its own parameter, same start values).
        let ref = Parameter(key: "fc.weight", shape: [rows, cols])
        ref.value.copy(from: dense.weight.tensor.data); ref.grad.copy(from: fixed)
        let adamF = Adam(lr: 1e-3, weightDecay: 1e-2), adamR = Adam(lr: 1e-3, weightDecay: 1e-2)
        for _ in 0..<2 {
            adamF.step([fused.weight]); adamR.step([ref])
            XCTAssertTrue(fused.weight.gradientIsDeferred, "Adam consumes the factors without materialising")
        }
        XCTAssertEqual(fused.weight.tensor.data.map(\.bitPattern), ref.tensor.data.map(\.bitPattern))
        print("fixed-order vs sgemm gradient: worst |diff| / Σ|terms| = \(worst) (bound 2γ₆ = \(2 * gamma))")
    }

    /// Whole-network training with the fused path: identical bytes on 1 and 2 threads, and
    /// close to the dense path (they differ in the FC gradients' summation order only).
    func testNetworkFusedDeterministicAndCloseToDense() throws {
        func train(deferred: Bool, threads: Int) throws -> (state: [String: Tensor], deferredKeys: [String]) {
            ParallelConfig.threads = threads
            let net = try AlexNet(config: Self.config, seed: 4, options: EngineOptions(deferredWeightGradients: deferred))
            let t = try Trainer(model: net, optimizer: Adam(lr: 1e-4, weightDecay: 1e-4))
            var rng = SeededGenerator(seed: 5)
            var keys: [String] = []
            for _ in 0..<3 {
                let (x, y) = TrainingTests.batch(6, size: 63, rng: &rng)
                try t.step(input: x, labels: y.map { $0 % 3 }, rng: &rng)
                keys = net.parameters.filter(\.gradientIsDeferred).map(\.key)
            }
            return (net.stateDict(), keys)
        }
        let f2 = try train(deferred: true, threads: 2), f1 = try train(deferred: true, threads: 1)
        let d2 = try train(deferred: false, threads: 2)
        XCTAssertEqual(f2.deferredKeys, ["classifier.1.weight", "classifier.4.weight"])
        XCTAssertEqual(d2.deferredKeys, [])
        var maxDiff: Float = 0
        for (k, v) in f2.state {
            XCTAssertEqual(v.data.map(\.bitPattern), f1.state[k]!.data.map(\.bitPattern), "\(k): 1 vs 2 threads")
            maxDiff = max(maxDiff, maxAbsDifference(v.data, d2.state[k]!.data))
        }
        // Three Adam steps move a weight by at most ~3·lr; summation-order differences in the
        // gradient change the update direction only where the gradient is ~0, so the weights
        // stay within one step size (lr) of the dense run's.
        XCTAssertLessThanOrEqual(maxDiff, 1e-4)
        print("fused vs dense FC gradient, 3 Adam steps (lr 1e-4): max |Δweight| = \(maxDiff)")
    }
}

import XCTest
import SeafoldCore
@testable import Classifiers

final class LinearHeadTests: XCTestCase {
    func testInitFollowsPyTorchBoundsAndSeed() throws {
        let a = try LinearHead(inputDim: 16, numClasses: 3, seed: 5)
        let b = try LinearHead(inputDim: 16, numClasses: 3, seed: 5)
        let c = try LinearHead(inputDim: 16, numClasses: 3, seed: 6)
        XCTAssertEqual(a.weight, b.weight)
        XCTAssertEqual(a.bias, b.bias)
        XCTAssertNotEqual(a.weight, c.weight)
        XCTAssertEqual(a.weight.count, 48)
        XCTAssertTrue((a.weight + a.bias).allSatisfy { abs($0) <= 0.25 })  // 1/√16
        XCTAssertGreaterThan(a.weight.map { abs($0) }.max()!, 0.15)      // spread over the range
        // Weight first, then bias, from the same stream.
        var rng = SeededGenerator(seed: 5)
        let first = rng.uniform(-0.25, 0.25)
        XCTAssertEqual(a.weight[0], first)
    }

    /// Independent Double implementation of the mean cross-entropy, differentiated numerically.
    func testGradientMatchesFiniteDifferences() throws {
        let d = 3, C = 3
        var rng = SeededGenerator(seed: 9)
        let head = try LinearHead(inputDim: d, numClasses: C, rng: &rng)
        let xb: [Float] = (0..<(4 * d)).map { _ in Float(rng.normal()) }
        let labels = [0, 2, 1, 2]
        let r = head.lossAndGradients(batch: xb, labels: labels)
        func loss(_ W: [Double], _ b: [Double]) -> Double {
            var total = 0.0
            for (n, y) in labels.enumerated() {
                let z = (0..<C).map { c in b[c] + (0..<d).reduce(0.0) { $0 + W[c * d + $1] * Double(xb[n * d + $1]) } }
                let mx = z.max()!
                let lse = mx + log(z.reduce(0.0) { $0 + exp($1 - mx) })
                total += lse - z[y]
            }
            return total / Double(labels.count)
        }
        let W = head.weight.map(Double.init), b = head.bias.map(Double.init)
        XCTAssertEqual(Double(r.loss), loss(W, b), accuracy: 1e-5)
        let h = 1e-6
        for i in W.indices {
            var p = W, m = W; p[i] += h; m[i] -= h
            XCTAssertEqual(Double(r.gradWeight[i]), (loss(p, b) - loss(m, b)) / (2 * h), accuracy: 1e-5, "dW[\(i)]")
        }
        for i in b.indices {
            var p = b, m = b; p[i] += h; m[i] -= h
            XCTAssertEqual(Double(r.gradBias[i]), (loss(W, p) - loss(W, m)) / (2 * h), accuracy: 1e-5, "db[\(i)]")
        }
    }

    /// d = 1, C = 2, W = b = 0, one sample x = 1 with label 0: softmax = (½, ½), so the
    /// gradient is g = (−½, ½) for both W and b. Adam's first step moves each parameter by
    /// lr·m̂/(√v̂ + eps) = lr·g/(|g| + eps); the second step is worked with the recurrences.
    func testAdamStepsByHand() throws {
        let lr = 0.1
        let head = try LinearHead(weight: [0, 0], bias: [0, 0], inputDim: 1,
                                  config: .init(learningRate: Float(lr), epochs: 2))
        let X = try FeatureMatrix([[1]])
        let stats = try head.train(X, labels: [0], epochOrder: { _ in [0] })
        // Expected, in Double.
        var p = [0.0, 0.0], m = [0.0, 0.0], v = [0.0, 0.0]
        var losses: [Double] = []
        for t in 1...2 {
            let z0 = 2 * p[0], z1 = 2 * p[1]     // logit_c = W_c·1 + b_c, and W_c = b_c here
            let s0 = 1 / (1 + exp(z1 - z0))
            losses.append(-log(s0))
            let g = [s0 - 1, 1 - s0]
            for c in 0..<2 {
                m[c] = 0.9 * m[c] + 0.1 * g[c]
                v[c] = 0.999 * v[c] + 0.001 * g[c] * g[c]
                let mh = m[c] / (1 - pow(0.9, Double(t))), vh = v[c] / (1 - pow(0.999, Double(t)))
                p[c] -= lr * mh / (vh.squareRoot() + 1e-8)
            }
            if t == 1 { XCTAssertEqual(p[0], 0.1, accuracy: 1e-7); XCTAssertEqual(p[1], -0.1, accuracy: 1e-7) }
        }
        XCTAssertEqual(Double(head.weight[0]), p[0], accuracy: 1e-6)
        XCTAssertEqual(Double(head.weight[1]), p[1], accuracy: 1e-6)
        XCTAssertEqual(Double(head.bias[0]), p[0], accuracy: 1e-6)
        XCTAssertEqual(Double(head.bias[1]), p[1], accuracy: 1e-6)
        XCTAssertEqual(stats[0].loss, log(2), accuracy: 1e-6)
        XCTAssertEqual(stats[1].loss, losses[1], accuracy: 1e-6)
    }

    func testLearnsSeparableToyDeterministically() throws {
        var rows: [[Float]] = [], labels: [Int] = []
        let centres: [[Float]] = [[2, 0], [-2, 0], [0, 2]]
        var rng = SeededGenerator(seed: 3)
        for i in 0..<21 {
            let c = i % 3
            rows.append([centres[c][0] + Float(rng.normal()) * 0.3, centres[c][1] + Float(rng.normal()) * 0.3])
            labels.append(c)
        }
        let X = try FeatureMatrix(rows)
        func run() throws -> (LinearHead, [LinearHead.EpochStats]) {
            let head = try LinearHead(inputDim: 2, numClasses: 3, seed: 1, config: .init(learningRate: 0.05, epochs: 30))
            var order = SeededGenerator(seed: 2)
            let stats = try head.train(X, labels: labels, epochOrder: { _ in order.permutation(21) })
            return (head, stats)
        }
        let (head, stats) = try run()
        XCTAssertEqual(try head.predict(X), labels)
        XCTAssertLessThan(stats.last!.loss, stats.first!.loss / 4)
        XCTAssertEqual(stats.last!.accuracy, 1)
        let probs = try head.probabilities(X)
        for p in probs { XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-5) }
        let (again, stats2) = try run()
        XCTAssertEqual(again.weight, head.weight)
        XCTAssertEqual(again.bias, head.bias)
        XCTAssertEqual(stats2, stats)
    }

    func testBatchesKeepLastPartialBatch() throws {
        // 7 samples, batch 6 → 2 optimiser steps per epoch; with lr 0 nothing moves, but the
        // loss is the per-sample mean over all 7 (each sample counted once).
        let head = try LinearHead(weight: [0, 0], bias: [0, 0], inputDim: 1, config: .init(learningRate: 0, epochs: 1))
        let X = try FeatureMatrix((0..<7).map { [Float($0)] })
        let stats = try head.train(X, labels: [0, 1, 0, 1, 0, 1, 0], epochOrder: { _ in Array(0..<7) })
        XCTAssertEqual(stats[0].loss, log(2), accuracy: 1e-6)
        XCTAssertEqual(head.optimizerSteps, 2)
        // All logits equal: the first maximum (class 0) is predicted, right for the four label-0 samples.
        XCTAssertEqual(stats[0].accuracy, 4.0 / 7, accuracy: 1e-12)
    }

    func testBadInputAndDivergence() throws {
        let head = try LinearHead(inputDim: 1, numClasses: 2, seed: 0)
        let X = try FeatureMatrix([[1], [2]])
        XCTAssertThrowsError(try head.train(X, labels: [0, 2], epochOrder: { _ in [0, 1] }))
        XCTAssertThrowsError(try head.train(X, labels: [0, 1], epochOrder: { _ in [0, 5] }))
        XCTAssertThrowsError(try head.predict(try FeatureMatrix([[1, 2]])))
        let huge = try LinearHead(weight: [Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude], bias: [0, 0], inputDim: 1)
        XCTAssertThrowsError(try huge.train(try FeatureMatrix([[3e38]]), labels: [1], epochOrder: { _ in [0] })) { error in
            XCTAssertTrue("\(error)".contains("epoch 1, step 1"), "\(error)")
        }
    }
}

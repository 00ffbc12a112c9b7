import Foundation
import SeafoldCore
import XCTest
@testable import WeightStats

/// ε placement and the swap test's null distribution.
final class EpsilonPlacementTests: XCTestCase {
    /// FT = [0, .1, .2, .9, 1, .95], pretrained = [0, .05, .1, .15, .2, .3] (float32), 4 bins on the
    /// joint range: counts [3, 0, 0, 3] and [5, 1, 0, 0]; FT has mass in a bin the pretrained
    /// layer leaves empty. Reference values from numpy 2.4 / scipy 1.17:
    /// `entropy(c_ft/6 + eps, c_pre/6 + eps)` and `entropy(c_ft + eps, c_pre + eps)`.
    func testBothPlacementsMatchScipy() throws {
        let ft: [Float] = [0, 0.1, 0.2, 0.9, 1.0, 0.95], pre: [Float] = [0, 0.05, 0.1, 0.15, 0.2, 0.3]
        let (p, q) = try WeightHistogram.pair(ft, pre, bins: 4)
        XCTAssertEqual(p.counts, [3, 0, 0, 3])
        XCTAssertEqual(q.counts, [5, 1, 0, 0])
        let cases: [(Double, EpsilonPlacement, Double)] = [
            (1e-3, .probabilities, 2.842504184283871), (1e-3, .counts, 3.7456050653107327),
            (1e-10, .probabilities, 10.910939058641661), (1e-10, .counts, 11.806818796667296),
        ]
        for (eps, on, expected) in cases {
            let kl = try WeightComparison.compare(fineTuned: ft, pretrained: pre, bins: 4, epsilon: eps, epsilonOn: on).kl
            XCTAssertEqual(kl, expected, accuracy: 1e-12 * expected, "ε = \(eps) on \(on)")
        }
        // The default is today's convention: ε on probabilities.
        XCTAssertEqual(try WeightComparison.compare(fineTuned: ft, pretrained: pre, bins: 4).kl,
                       try WeightComparison.compare(fineTuned: ft, pretrained: pre, bins: 4, epsilonOn: .probabilities).kl)
    }

    func testLayerComparisonPassesPlacementAndCount() throws {
        let ft = ["features.0.weight": [Float](arrayLiteral: 0, 0.1, 0.2, 0.9), "features.0.bias": [Float](arrayLiteral: 1.0, 0.95)]
        let pre = ["features.0.weight": [Float](arrayLiteral: 0, 0.05, 0.1, 0.15), "features.0.bias": [Float](arrayLiteral: 0.2, 0.3)]
        let layer = [PaperLayers.all[0]]
        let counts = try LayerComparison.compare(fineTuned: ft, pretrained: pre, bins: 4, epsilon: 1e-3, epsilonOn: .counts, layers: layer)
        XCTAssertEqual(counts[0].kl, 3.7456050653107327, accuracy: 1e-11)
        XCTAssertEqual(counts[0].count, 6)
        let noBias = try LayerComparison.compare(fineTuned: ft, pretrained: pre, bins: 4, includeBiases: false, layers: layer)
        XCTAssertEqual(noBias[0].count, 4)
    }
}

final class SwapNullTests: XCTestCase {
    /// Binomial(n, ½) by counting random bits: the frequencies of 40,000 seeded draws of
    /// Binomial(10, ½) match C(10, k)/1024 within 5 standard errors, and n = 0, 64, 70 stay in range.
    func testBinomialHalfHasTheBinomialDistribution() {
        var rng = SeededGenerator(seed: 3)
        XCTAssertEqual(SwapNull.binomialHalf(0, &rng), 0)
        var freq = [Int](repeating: 0, count: 11)
        let draws = 40_000
        for _ in 0..<draws { freq[SwapNull.binomialHalf(10, &rng)] += 1 }
        for k in 0...10 {
            let p = exp(lgamma(11) - lgamma(Double(k + 1)) - lgamma(Double(11 - k))) / 1024
            let se = (p * (1 - p) / Double(draws)).squareRoot()
            XCTAssertEqual(Double(freq[k]) / Double(draws), p, accuracy: 5 * se + 1e-12, "P(X = \(k))")
        }
        for n in [64, 70, 200] {
            var sum = 0
            for _ in 0..<4000 {
                let x = SwapNull.binomialHalf(n, &rng)
                XCTAssertTrue((0...n).contains(x))
                sum += x
            }
            // mean n/2, sd of the mean √(n/4/4000)
            XCTAssertEqual(Double(sum) / 4000, Double(n) / 2, accuracy: 5 * (Double(n) / 4 / 4000).squareRoot())
        }
    }

    /// Three pairs on two bins: every one of the 2³ swap patterns is equally likely, so the exact
    /// null distribution of KL can be enumerated by swapping the values themselves (an
    /// implementation independent of the joint-count shortcut). The Monte Carlo frequencies of
    /// 20,000 draws match it within 5 standard errors.
    func testNullMatchesExactEnumeration() throws {
        let ft: [Float] = [0.9, 1.0, 0.1, 0.95], pre: [Float] = [0.0, 0.1, 0.2, 0.9]
        // Pair 4 sits in the upper bin on both sides (never moves); pairs 1–3 cross bins or not.
        var exact: [Double: Double] = [:]
        for mask in 0..<16 {
            var a = ft, b = pre
            for i in 0..<4 where mask & (1 << i) != 0 { swap(&a[i], &b[i]) }
            let kl = try WeightComparison.compare(fineTuned: a, pretrained: b, bins: 2, epsilon: 1e-3).kl
            exact[(kl * 1e9).rounded() / 1e9, default: 0] += 1.0 / 16
        }
        XCTAssertGreaterThan(exact.count, 1, "the example has more than one null value")
        let draws = 20_000
        let null = try SwapNull.nullKL(fineTuned: ft, pretrained: pre, bins: 2, epsilon: 1e-3, epsilonOn: .probabilities, draws: draws, seed: 7)
        XCTAssertEqual(null.count, draws)
        var freq: [Double: Double] = [:]
        for v in null { freq[(v * 1e9).rounded() / 1e9, default: 0] += 1.0 / Double(draws) }
        XCTAssertEqual(Set(freq.keys), Set(exact.keys), "the draws take exactly the enumerated values")
        for (v, p) in exact {
            let se = (p * (1 - p) / Double(draws)).squareRoot()
            XCTAssertEqual(freq[v] ?? 0, p, accuracy: 5 * se, "P(KL = \(v))")
        }
    }

    func testUnchangedLayerHasOnlyTheObservedValue() throws {
        let w: [Float] = (0..<500).map { Float(sin(Double($0))) }
        let null = try SwapNull.nullKL(fineTuned: w, pretrained: w, bins: 10, epsilon: 1e-10, epsilonOn: .counts, draws: 50, seed: 1)
        XCTAssertEqual(null, [Double](repeating: 0, count: 50))
    }

    /// A shifted layer: its observed KL lies far above every null draw; the same seed gives the
    /// same draws, another seed other draws.
    func testShiftIsFarAboveTheNullAndDrawsAreSeeded() throws {
        let pre: [Float] = (0..<2000).map { Float(sin(Double($0) * 0.37)) * 0.1 }
        let ft = pre.map { $0 + 0.05 }
        let observed = try WeightComparison.compare(fineTuned: ft, pretrained: pre, bins: 20).kl
        let null = try SwapNull.nullKL(fineTuned: ft, pretrained: pre, bins: 20, epsilon: 1e-10, epsilonOn: .probabilities, draws: 99, seed: 5)
        XCTAssertLessThan(null.max() ?? .infinity, observed / 10)
        XCTAssertEqual(null, try SwapNull.nullKL(fineTuned: ft, pretrained: pre, bins: 20, epsilon: 1e-10, epsilonOn: .probabilities, draws: 99, seed: 5))
        XCTAssertNotEqual(null, try SwapNull.nullKL(fineTuned: ft, pretrained: pre, bins: 20, epsilon: 1e-10, epsilonOn: .probabilities, draws: 99, seed: 6))
        XCTAssertThrowsError(try SwapNull.nullKL(fineTuned: ft, pretrained: [1], bins: 20, epsilon: 0, epsilonOn: .counts, draws: 3, seed: 1))
    }
}

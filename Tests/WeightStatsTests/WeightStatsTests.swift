import XCTest
import Foundation
@testable import WeightStats

final class WeightHistogramTests: XCTestCase {
    func testEdgesAndLastBinClosed() throws {
        // linspace(0, 1, 5) = 0, .25, .5, .75, 1; bins [0,.25) [.25,.5) [.5,.75) [.75,1].
        let h = try WeightHistogram([0, 0.25, 0.5, 0.75, 1.0], edges: try WeightHistogram.edges(lo: 0, hi: 1, bins: 4))
        XCTAssertEqual(h.edges, [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(h.counts, [1, 1, 1, 2])
        XCTAssertEqual(h.probabilities, [0.2, 0.2, 0.2, 0.4])
        // Two bins: 0.5 sits on the inner edge and goes right.
        let h2 = try WeightHistogram([0, 0.25, 0.5, 0.75, 1.0], edges: try WeightHistogram.edges(lo: 0, hi: 1, bins: 2))
        XCTAssertEqual(h2.counts, [2, 3])
    }

    func testEdgesFollowLinspaceWithExactLastEdge() throws {
        // numpy: linspace(0, 0.3, 4) = [0, 0.1, 0.2, 0.3] computed as i·(0.3/3) + 0, last set to 0.3.
        let e = try WeightHistogram.edges(lo: 0, hi: 0.3, bins: 3)
        XCTAssertEqual(e, [0, 0.3 / 3, 2 * (0.3 / 3), 0.3])
        XCTAssertEqual(e[2], 0.19999999999999998)  // not 0.2: the value numpy gives too
    }

    /// Values lying on or next to edges, where the bin index depends on rounding. Reference
    /// counts from numpy 2 `np.histogram(v.astype(float64), bins, range=(v.min(), v.max()))`
    /// with v = float32(arange(31)) * float32(0.1) and v = float32(arange(71)) / float32(7).
    func testEdgeRoundingMatchesNumpy() throws {
        let v = (0..<31).map { Float($0) * Float(0.1) }
        let (h3, h30) = (try WeightHistogram.pair(v, v, bins: 3).0, try WeightHistogram.pair(v, v, bins: 30).0)
        XCTAssertEqual(h3.counts, [10, 10, 11])
        XCTAssertEqual(h30.counts, [1, 1, 1, 1, 1, 1, 2, 0, 1, 1, 1, 1, 1, 2, 0, 1, 1, 1, 2, 0, 1, 1, 2, 0, 1, 1, 1, 2, 0, 2])
        let w = (0..<71).map { Float($0) / Float(7) }
        XCTAssertEqual(try WeightHistogram.pair(w, w, bins: 10).0.counts, [7, 7, 7, 7, 7, 7, 7, 7, 7, 8])
    }

    func testDegenerateRangeLikeNumpy() throws {
        // np.histogram([2, 2, 2], bins=4) → counts [0, 0, 3, 0], edges [1.5, 1.75, 2, 2.25, 2.5].
        let (a, b) = try WeightHistogram.pair([2, 2, 2], [2], bins: 4)
        XCTAssertEqual(a.edges, [1.5, 1.75, 2, 2.25, 2.5])
        XCTAssertEqual(a.counts, [0, 0, 3, 0])
        XCTAssertEqual(b.counts, [0, 0, 1, 0])
    }

    func testSharedJointEdges() throws {
        // Joint range 0…3 with 3 bins: edges 0, 1, 2, 3.
        let (a, b) = try WeightHistogram.pair([0, 1], [3, 2.5], bins: 3)
        XCTAssertEqual(a.edges, [0, 1, 2, 3])
        XCTAssertEqual(a.edges, b.edges)
        XCTAssertEqual(a.counts, [1, 1, 0])
        XCTAssertEqual(b.counts, [0, 0, 2])
        XCTAssertThrowsError(try WeightHistogram.pair([], [1], bins: 3))
        XCTAssertThrowsError(try WeightHistogram.pair([.nan], [1], bins: 3))
        XCTAssertThrowsError(try WeightHistogram.pair([0], [1], bins: 0))
    }
}

final class DivergenceTests: XCTestCase {
    func testKLByHand() throws {
        // ½ ln(½ / ¼) + ½ ln(½ / ¾) = ½ ln 2 + ½ ln(2/3) = ½ ln(4/3).
        let d = try KLDivergence.divergence(p: [0.5, 0.5], q: [0.25, 0.75], epsilon: 0)
        XCTAssertEqual(d, 0.5 * log(4.0 / 3), accuracy: 1e-15)
        // With ε: both smoothed and renormalised by 1 + 2ε.
        let e = 0.01
        let p = [(0.5 + e) / (1 + 2 * e), (0.5 + e) / (1 + 2 * e)]
        let q = [(0.25 + e) / (1 + 2 * e), (0.75 + e) / (1 + 2 * e)]
        let expected = p[0] * log(p[0] / q[0]) + p[1] * log(p[1] / q[1])
        XCTAssertEqual(try KLDivergence.divergence(p: [0.5, 0.5], q: [0.25, 0.75], epsilon: e), expected, accuracy: 1e-15)
        // Asymmetric.
        XCTAssertNotEqual(try KLDivergence.divergence(p: [0.25, 0.75], q: [0.5, 0.5], epsilon: 0), d)
    }

    func testKLOfIdenticalIsZero() throws {
        let p = [0.1, 0.0, 0.3, 0.6]
        XCTAssertEqual(try KLDivergence.divergence(p: p, q: p), 0)
        XCTAssertEqual(try KLDivergence.divergence(p: p, q: p, epsilon: 0), 0)
    }

    func testFiniteWithEmptyBins() throws {
        // p = [1, 0], q = [0, 1] with ε: p' = [(1+ε), ε]/(1+2ε), q' reversed, so
        // D = (p'0 − p'1) · ln((1+ε)/ε).
        let e = KLDivergence.defaultEpsilon
        let d = try KLDivergence.divergence(p: [1, 0], q: [0, 1])
        XCTAssertTrue(d.isFinite)
        XCTAssertEqual(d, (1 / (1 + 2 * e)) * log((1 + e) / e), accuracy: 1e-9)
        // Without ε the plain definition is infinite, as scipy's.
        XCTAssertEqual(try KLDivergence.divergence(p: [1, 0], q: [0, 1], epsilon: 0), .infinity)
        // A bin empty in p adds nothing when ε = 0.
        XCTAssertEqual(try KLDivergence.divergence(p: [1, 0], q: [0.5, 0.5], epsilon: 0), log(2), accuracy: 1e-15)
        XCTAssertThrowsError(try KLDivergence.divergence(p: [1], q: [0.5, 0.5]))
    }

    func testEuclideanByHand() throws {
        XCTAssertEqual(try WeightComparison.euclidean([1, 2, 3], [1, 0, 1]), 8.0.squareRoot(), accuracy: 1e-15)
        XCTAssertThrowsError(try WeightComparison.euclidean([1], [1, 2]))
    }

    func testCompareUsesSharedEdges() throws {
        // FT [0, 1, 1, 3], pretrained [0, 0, 3, 3], joint range 0…3, 3 bins (edges 0,1,2,3):
        // FT counts [1, 2, 1] → p = [¼, ½, ¼]; pretrained [2, 0, 2] → q = [½, 0, ½].
        let e = 1e-6
        let r = try WeightComparison.compare(fineTuned: [0, 1, 1, 3], pretrained: [0, 0, 3, 3], bins: 3, epsilon: e)
        let p = [0.25, 0.5, 0.25].map { ($0 + e) / (1 + 3 * e) }
        let q = [0.5, 0, 0.5].map { ($0 + e) / (1 + 3 * e) }
        let kl = zip(p, q).reduce(0.0) { $0 + $1.0 * log($1.0 / $1.1) }
        XCTAssertEqual(r.kl, kl, accuracy: 1e-12)
        XCTAssertEqual(r.euclidean, (0 + 1 + 4 + 0.0).squareRoot(), accuracy: 1e-15)
        let same = try WeightComparison.compare(fineTuned: [0.5, -1, 2], pretrained: [0.5, -1, 2])
        XCTAssertEqual(same.kl, 0)
        XCTAssertEqual(same.euclidean, 0)
    }
}

final class LayerComparisonTests: XCTestCase {
    func testPaperLayerMapping() {
        XCTAssertEqual(PaperLayers.all.map(\.name), ["conv1", "conv2", "conv3", "conv4", "conv5", "fc1", "fc2"])
        XCTAssertEqual(PaperLayers.all.map(\.prefix),
                       ["features.0", "features.3", "features.6", "features.8", "features.10", "classifier.1", "classifier.4"])
        XCTAssertEqual(PaperLayers.mapping(includeBiases: true)[0].keys, ["features.0.weight", "features.0.bias"])
        XCTAssertEqual(PaperLayers.mapping(includeBiases: false)[6].keys, ["classifier.4.weight"])
    }

    private func model(offsetBias: Float) -> [String: [Float]] {
        var d: [String: [Float]] = [:]
        for l in PaperLayers.all {
            d["\(l.prefix).weight"] = [0, 1, 2, 3]
            d["\(l.prefix).bias"] = [offsetBias, 1]
        }
        return d
    }

    func testBiasesInOrOut() throws {
        let ft = model(offsetBias: 2), base = model(offsetBias: 0)
        let with = try LayerComparison.compare(fineTuned: ft, pretrained: base, includeBiases: true)
        XCTAssertEqual(with.count, 7)
        XCTAssertEqual(with[0].parameters, ["features.0.weight", "features.0.bias"])
        XCTAssertEqual(with[0].euclidean, 2, accuracy: 1e-15)  // only the bias moved, by 2
        XCTAssertGreaterThan(with[0].kl, 0)
        let without = try LayerComparison.compare(fineTuned: ft, pretrained: base, includeBiases: false)
        XCTAssertEqual(without[3].parameters, ["features.8.weight"])
        XCTAssertEqual(without[3].euclidean, 0)
        XCTAssertEqual(without[3].kl, 0)
    }

    func testMissingKeyIsNamed() throws {
        var ft = model(offsetBias: 0)
        ft["classifier.1.bias"] = nil
        XCTAssertThrowsError(try LayerComparison.compare(fineTuned: ft, pretrained: model(offsetBias: 0))) { error in
            XCTAssertTrue("\(error)".contains("classifier.1.bias"), "\(error)")
        }
        // Without biases the missing bias does not matter.
        XCTAssertNoThrow(try LayerComparison.compare(fineTuned: ft, pretrained: model(offsetBias: 0), includeBiases: false))
        var base = model(offsetBias: 0)
        base["features.3.weight"] = [1, 2]
        XCTAssertThrowsError(try LayerComparison.compare(fineTuned: model(offsetBias: 0), pretrained: base)) { error in
            XCTAssertTrue("\(error)".contains("features.3.weight"), "\(error)")
        }
    }
}

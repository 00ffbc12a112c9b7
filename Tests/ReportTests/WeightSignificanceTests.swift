import Foundation
import Pipeline
import XCTest
@testable import Report

final class WeightSignificanceTests: XCTestCase {
    /// statsmodels `multipletests([0.01, 0.04, 0.03, 0.005], method="holm")` by hand:
    /// sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → running max 0.06.
    func testHolmByHand() {
        let adj = Holm.adjust([0.01, 0.04, 0.03, 0.005])
        for (a, e) in zip(adj, [0.03, 0.06, 0.06, 0.02]) { XCTAssertEqual(a, e, accuracy: 1e-15) }
        XCTAssertEqual(Holm.adjust([0.5, 0.9]), [1, 1])
        XCTAssertEqual(Holm.adjust([]), [])
    }

    /// scipy 1.17: binom.sf(2, 3, 1/7) = 0.0029154518950437313 (= 1/343), binom.sf(1, 3, 1/7) =
    /// 0.05539358600583091, binom.sf(0, 3, 1/7) = 0.37026239067055394, binom.sf(3, 10, 0.25) = 0.22412490844726562.
    func testBinomialTailMatchesScipy() {
        XCTAssertEqual(BinomialTail.atLeast(3, n: 3, p: 1.0 / 7), 1.0 / 343, accuracy: 1e-15)
        XCTAssertEqual(BinomialTail.atLeast(2, n: 3, p: 1.0 / 7), 0.05539358600583091, accuracy: 1e-14)
        XCTAssertEqual(BinomialTail.atLeast(1, n: 3, p: 1.0 / 7), 0.37026239067055394, accuracy: 1e-14)
        XCTAssertEqual(BinomialTail.atLeast(4, n: 10, p: 0.25), 0.22412490844726562, accuracy: 1e-14)
        XCTAssertEqual(BinomialTail.atLeast(0, n: 3, p: 0.5), 1)
        XCTAssertEqual(BinomialTail.atLeast(4, n: 3, p: 0.5), 0)
    }

    func testMonteCarloPCountsTheObservedDraw() {
        // 2 of 9 draws reach 0.5 → (1 + 2) / 10.
        XCTAssertEqual(WeightSignificance.monteCarloP(observed: 0.5, null: [0.1, 0.2, 0.5, 0.7, 0.3, 0.1, 0.2, 0.4, 0.0]), 0.3, accuracy: 1e-15)
        XCTAssertEqual(WeightSignificance.monteCarloP(observed: 9, null: [Double](repeating: 1, count: 99)), 0.01, accuracy: 1e-15)
    }

    /// Two folds, three layers, four null draws each. conv1: KL 0.5 and 0.7 (mean 0.6); null
    /// draws fold 1 [0.1, 0.2, 0.9, 0.3], fold 2 [0.1, 0.6, 0.5, 0.1] → fold means 0.1, 0.4, 0.7,
    /// 0.2; one reaches 0.6 → p = 2/5. conv2: KL 0.05 both folds, nulls all 0.01 → p = 1/5.
    /// fc1: KL 0.2 both, nulls all 0.3 → p = 1. Holm over [0.4, 0.2, 1]: sorted 0.2·3 = 0.6,
    /// 0.4·2 = 0.8, 1 → [0.8, 0.6, 1].
    func testLayerPValuesAndHolmByHand() {
        let r = WeightSignificanceTests.results()
        let s = WeightSignificance(r, columns: ["ds/balanced"], layerOrder: ["conv1", "conv2", "fc1"])
        XCTAssertEqual(s.layers.map(\.layer), ["conv1", "conv2", "fc1"])
        let p = s.layers.map { $0.p ?? -1 }, holm = s.layers.map { $0.pHolm ?? -1 }
        for (a, e) in zip(p, [0.4, 0.2, 1.0]) { XCTAssertEqual(a, e, accuracy: 1e-12) }
        for (a, e) in zip(holm, [0.8, 0.6, 1.0]) { XCTAssertEqual(a, e, accuracy: 1e-12) }
        XCTAssertEqual(s.layers[0].meanKL ?? -1, 0.6, accuracy: 1e-12)
        XCTAssertEqual(s.layers[0].nullMeanKL ?? -1, (0.1 + 0.4 + 0.7 + 0.2) / 4, accuracy: 1e-12)
        XCTAssertEqual(s.layers[0].draws, 4)
        // Per fold p: conv1 fold 1 0.5 → (1+1)/5, fold 2 0.7 → 1/5; none ≤ 0.05 with 4 draws.
        XCTAssertEqual(s.layers[0].foldsSignificant, 0)
        // RMS change = ED/√count: conv1 ED 2 over 4 values → 1, ED 4 → 2; mean 1.5.
        XCTAssertEqual(s.layers[0].rmsChange ?? -1, 1.5, accuracy: 1e-12)
    }

    /// conv1 has the largest KL in both folds: p = (1/3)² with three layers. By RMS change
    /// (ED/√count) conv1 ranks 2nd in fold 1 (fc1: 3/√1 = 3 > 2/√4 = 1) and 1st in fold 2 (4/√4 = 2 > fc1 1).
    func testConv1LargestTest() throws {
        let s = WeightSignificance(WeightSignificanceTests.results(), columns: ["ds/balanced"], layerOrder: ["conv1", "conv2", "fc1"])
        let kl = try XCTUnwrap(s.largest.first { $0.measure == "kl" })
        XCTAssertEqual(kl.ranks, [1, 1])
        XCTAssertEqual(kl.largestIn, 2)
        XCTAssertEqual(kl.layers, 3)
        XCTAssertEqual(kl.p ?? -1, 1.0 / 9, accuracy: 1e-15)
        let rms = try XCTUnwrap(s.largest.first { $0.measure == "rms" })
        XCTAssertEqual(rms.ranks, [2, 1])
        XCTAssertEqual(rms.p ?? -1, 1 - (2.0 / 3) * (2.0 / 3), accuracy: 1e-15)  // P(K ≥ 1), K ~ Bin(2, 1/3)
    }

    func testMissingDrawsGiveANoteNotAPValue() {
        var r = WeightSignificanceTests.results()
        for i in r.divergences.indices { for j in r.divergences[i].layers.indices { r.divergences[i].layers[j].nullKL = nil } }
        let s = WeightSignificance(r, columns: ["ds/balanced"], layerOrder: ["conv1", "conv2", "fc1"])
        XCTAssertTrue(s.layers.allSatisfy { $0.p == nil && $0.note != nil })
        let g = WeightSignificanceTables.layers(s)
        XCTAssertEqual(g.gaps.count, 3)
    }

    /// Table 3's caption names bins, ε, its placement and biases in every format.
    func testTable3CaptionNamesTheConventions() {
        var r = WeightSignificanceTests.results()
        let a = Aggregate(r)
        let title = TableGrids.table3(a).title
        XCTAssertTrue(title.contains("weights and biases"), title)
        XCTAssertTrue(title.contains("7 equal-width bins"), title)
        XCTAssertTrue(title.contains("ε = 0.001 added to each bin's count"), title)
        XCTAssertTrue(LaTeXTables.grid(TableGrids.table3(a)).contains("7 equal-width bins"))
        XCTAssertTrue(MarkdownTables.grid(TableGrids.table3(a)).contains("each bin's count"))
        for i in r.divergences.indices { r.divergences[i].epsilonOn = nil; r.divergences[i].includeBiases = false }
        let old = TableGrids.table3(Aggregate(r)).title
        XCTAssertTrue(old.contains("each bin's probability"), old)
        XCTAssertTrue(old.contains("weights only"), old)
        // results.json carries the conventions.
        let json = String(decoding: try! JSONReport(r, aggregate: Aggregate(r)).encoded(), as: UTF8.self)
        XCTAssertTrue(json.contains("\"epsilonOn\" : [\n"), json.prefix(200).description)
    }

    static func results() -> RunResults {
        func key(_ fold: Int) -> ShardKey { ShardKey(dataset: "ds", variant: .balanced, fold: fold) }
        func rows(_ fold: Int) -> [LayerDivergenceRow] {
            let nulls: [[Double]] = fold == 0 ? [[0.1, 0.2, 0.9, 0.3], [0.01, 0.01, 0.01, 0.01], [0.3, 0.3, 0.3, 0.3]]
                : [[0.1, 0.6, 0.5, 0.1], [0.01, 0.01, 0.01, 0.01], [0.3, 0.3, 0.3, 0.3]]
            let kl = fold == 0 ? [0.5, 0.05, 0.2] : [0.7, 0.05, 0.2]
            let ed = fold == 0 ? [2.0, 1.0, 3.0] : [4.0, 1.0, 1.0]
            let count = [4, 4, 1]
            return ["conv1", "conv2", "fc1"].indices.map { i in
                LayerDivergenceRow(layer: ["conv1", "conv2", "fc1"][i], parameters: ["p\(i)"], kl: kl[i], euclidean: ed[i],
                                   count: count[i], nullKL: nulls[i])
            }
        }
        let divergences = (0..<2).map {
            DivergenceResult(shard: key($0), layers: rows($0), bins: 7, epsilon: 0.001, includeBiases: true, epsilonOn: "counts", permutationSeed: 1)
        }
        return RunResults(configYAML: "", softwareVersion: "test", minorityClass: "a", columns: ["ds/balanced"], divergences: divergences)
    }
}

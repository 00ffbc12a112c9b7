import XCTest
import SeafoldCore
@testable import Explain

final class ScoresAndFigureTests: XCTestCase {
    /// An explanation with the given (segment, weight) list on a rows × cols grid segmentation.
    func makeExplanation(width: Int, height: Int, rows: Int, cols: Int, weights: [(Int, Double)]) throws -> Explanation {
        let seg = try Segmentation.grid(width: width, height: height, rows: rows, cols: cols)
        let le = Explanation.LabelExplanation(label: 0, weights: weights.map { Explanation.SegmentWeight(segment: $0.0, weight: $0.1) },
                                              intercept: 0, localPrediction: 0, score: 0)
        return Explanation(segmentation: seg, topLabels: [0], labels: [le], originalPrediction: [1, 0], numSamples: 0,
                           kernelWidth: 0.25, seed: 0, hideColor: [0, 0, 0], warnings: [])
    }

    func testJaccard() {
        XCTAssertEqual(ExplanationScores.jaccard([1, 2, 3], [2, 3, 4]), 0.5)
        XCTAssertEqual(ExplanationScores.jaccard([], []), 1)
        XCTAssertEqual(ExplanationScores.jaccard([1], [2]), 0)
    }

    /// Four segments (1×4 grid on a white 4×1 image), hide colour black. The model's class-0
    /// probability is the mean brightness. Removing in weight order 2, 0, 3, 1 gives
    /// probabilities 1, 0.75, 0.5, 0.25, 0 at x = 0, .25, .5, .75, 1: trapezoid area 0.5.
    func testDeletionCurveByHand() throws {
        let img = try RGBImage(width: 4, height: 1, pixels: [Float](repeating: 1, count: 12))
        let e = try makeExplanation(width: 4, height: 1, rows: 1, cols: 4, weights: [(2, 0.5), (0, 0.3), (3, -0.1), (1, -0.2)])
        var calls = 0
        let model: ImageClassifier = { batch in
            calls += 1
            return batch.map { im in let m = im.pixels.reduce(0, +) / 12; return [m, 1 - m] }
        }
        let curve = try ExplanationScores.deletionCurve(image: img, explanation: e, label: 0, classifier: model, batchSize: 2)
        XCTAssertEqual(curve.order, [2, 0, 3, 1])
        XCTAssertEqual(curve.fractions, [0, 0.25, 0.5, 0.75, 1])
        for (a, b) in zip(curve.probabilities, [1, 0.75, 0.5, 0.25, 0]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(curve.auc, 0.5, accuracy: 1e-6)
        XCTAssertEqual(calls, 3)   // 5 images in batches of 2
    }

    /// 4×4 image, 2×2 grid (4 segments of 4 px). Positive: segments 0 and 3; evidence: rows 0–1
    /// (= segments 0 and 1, 8 px). Explained area 8 px, 4 of them on evidence → 0.5.
    func testPointingByHand() throws {
        let e = try makeExplanation(width: 4, height: 4, rows: 2, cols: 2, weights: [(0, 0.4), (3, 0.2), (1, -0.3), (2, -0.01)])
        var evidence = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { evidence[i] = 1 }
        let p = try ExplanationScores.pointing(explanation: e, label: 0, evidence: evidence)
        XCTAssertEqual(p.score, 0.5)
        XCTAssertEqual(p.chance, 0.5)
        XCTAssertEqual(p.explainedPixels, 8)
        let one = try ExplanationScores.pointing(explanation: e, label: 0, evidence: evidence, numFeatures: 1)
        XCTAssertEqual(one.score, 1)
        XCTAssertThrowsError(try ExplanationScores.pointing(explanation: e, label: 0, evidence: [1, 0]))
    }

    func testStabilityIsOneForADeterministicSignal() throws {
        let size = 32
        let img = TestImages.quadrants(size: size, noise: 0.15, seed: 2)
        let seg = try Segmentation.grid(width: size, height: size, rows: 2, cols: 2)
        let lime = LimeImageExplainer(numSamples: 60)
        let st = try ExplanationScores.stability(image: img, classifier: LimeTests.regionModel(original: img, size: size),
                                                 explainer: lime, label: 0, seeds: [1, 2, 3], topK: 1, segmentation: seg)
        XCTAssertEqual(st.topSegments, [[0], [0], [0]])
        XCTAssertEqual(st.pairwiseJaccard.count, 3)
        XCTAssertEqual(st.meanJaccard, 1)
    }

    func testOuterBoundaryMatchesDefinition() {
        // 4×4 mask with the centre 2×2 on: outer boundary = the 8 pixels 4-adjacent to it.
        var inside = [Bool](repeating: false, count: 16)
        for i in [5, 6, 9, 10] { inside[i] = true }
        let b = ExplanationFigure.outerBoundary(inside, width: 4, height: 4)
        XCTAssertEqual(Set((0..<16).filter { b[$0] }), [1, 2, 4, 7, 8, 11, 13, 14])
    }

    func testFigureLayoutAndColours() throws {
        let img = try RGBImage(width: 8, height: 8, pixels: [Float](repeating: 0.5, count: 192))
        let e = try makeExplanation(width: 8, height: 8, rows: 2, cols: 2, weights: [(0, 0.4), (3, -0.2)])
        let fig = try ExplanationFigure.render(image: img, panels: [.image(), .explanation("Base", e, label: 0)], titles: false, gap: 2)
        XCTAssertEqual(fig.width, 2 * 8 + 3 * 2)
        XCTAssertEqual(fig.height, 8 + 2)
        XCTAssertEqual(fig.rgb.count, fig.width * fig.height * 3)
        func px(_ x: Int, _ y: Int) -> [UInt8] { let o = 3 * (y * fig.width + x); return Array(fig.rgb[o..<o + 3]) }
        // Image panel at x 2…9: plain grey 128.
        XCTAssertEqual(px(2, 0), [128, 128, 128])
        // Explanation panel at x 12…19. Segment 0 (top-left 4×4) is green-tinted:
        // 0.65·0.5 + 0.35·(0,1,0) → (0.325, 0.675, 0.325).
        XCTAssertEqual(px(12, 0), [83, 172, 83])
        // Its outer boundary (column 4 of rows 0…3, row 4 of columns 0…3) is yellow.
        XCTAssertEqual(px(12 + 4, 1), [255, 255, 0])
        XCTAssertEqual(px(12 + 1, 4), [255, 255, 0])
        // Segment 3 (bottom-right) is red-tinted: (0.675, 0.325, 0.325).
        XCTAssertEqual(px(12 + 7, 7), [172, 83, 83])
        // With titles, a band is added and some title pixels are black.
        let titled = try ExplanationFigure.comparison(image: img, base: e, fineTuned: e, label: 0)
        XCTAssertGreaterThan(titled.height, 8)
        XCTAssertTrue(titled.rgb.contains(0))
    }
}

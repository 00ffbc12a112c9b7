import Foundation
import Pipeline
import XCTest
@testable import Report

final class FigureTwoAndLimeCaptionTests: XCTestCase {
    /// Panel (d) sums the folds per class; a fold that lacks a trailing class counts 0 there.
    func testAllFoldsPanelSumsTheFolds() {
        let d = FoldDistribution(dataset: "ss", classes: ["crater", "flat", "rock"], counts: [[1, 10, 4], [2, 11, 4], [1, 9]])
        XCTAssertEqual(FigureTwo.allFolds(d), [4, 30, 8])
        var r = RunResults(configYAML: "", softwareVersion: "test", minorityClass: "crater", columns: [])
        r.foldDistributions = [d]
        let html = HTMLSections.foldDistributions(r)
        XCTAssertTrue(html.contains("All folds"), html)
        for f in 1...3 { XCTAssertTrue(html.contains("Fold \(f)")) }
    }

    func testLimeCaptionNamesClassChoiceAndSegmenter() {
        let shard = ShardKey(dataset: "ms", variant: .balanced, fold: 0)
        let scores = [
            ExplanationScore(model: .base, explainedClass: 2, probability: 0.6125, stability: nil, deletionAUC: nil, pointing: nil,
                             localR2: 0.5, segments: 12, explainedBy: "top_prediction"),
            ExplanationScore(model: .ft, explainedClass: 0, probability: 0.48, stability: nil, deletionAUC: nil, pointing: nil,
                             localR2: 0.5, segments: 12, explainedBy: "top_prediction"),
        ]
        let e = ExplainedImage(shard: shard, imageIndex: 7, trueClass: 0, scores: scores, figure: nil,
                               classNames: ["crater", "flat", "sand ripple"], segmenter: "quickshift(kernel_size=4.0, max_dist=200.0, ratio=0.2, seed=1)",
                               segmenterWarnings: ["quickshift gave 3 segment(s) (< 8); fell back to slic"])
        let c = LimeCaption.text(e, classes: [], lime: nil)
        XCTAssertEqual(c, "\(shard), image 7: true class crater. Base explains its top prediction sand ripple (p=0.613). "
                       + "FT explains its top prediction crater (p=0.480). Segmenter: quickshift(kernel_size=4.0, max_dist=200.0, ratio=0.2, seed=1); 12 superpixels. "
                       + "quickshift gave 3 segment(s) (< 8); fell back to slic. Scores: Base: local R² 0.500; FT: local R² 0.500.")
        var t = e
        t.scores = t.scores.map { var s = $0; s.explainedBy = "true_class"; s.explainedClass = 0; return s }
        XCTAssertTrue(LimeCaption.text(t, classes: [], lime: nil).contains("Explained class: crater, the true class (Base p=0.613, FT p=0.480)"),
                      LimeCaption.text(t, classes: [], lime: nil))
    }
}

import Foundation
import Pipeline
import XCTest
@testable import Report

final class RepeatedCVTests: XCTestCase {
    func testCorrectedResampledTestByHand() {
        // d = [.02,.05,-.01,.04,.03,.01], n = 6 (3 folds × 2 repeats), n_test/n_train = 1/2.
        // mean = 7/300; Σ(d−mean)² = 7/3000, var = 7/15000; corrected var = (1/6 + 1/2)·7/15000 = 7/22500;
        // t = (7/300)/(√7/150) = √7/2 (the uncorrected paired t would be √7). df = 5.
        let t = CorrectedResampledTest(differences: [0.02, 0.05, -0.01, 0.04, 0.03, 0.01], testTrainRatio: 0.5)
        XCTAssertEqual(t.n, 6)
        XCTAssertEqual(t.df, 5)
        XCTAssertEqual(t.meanDifference!, 7.0 / 300, accuracy: 1e-15)
        XCTAssertEqual(t.variance!, 7.0 / 15000, accuracy: 1e-15)
        XCTAssertEqual(t.t!, 7.0.squareRoot() / 2, accuracy: 1e-12)
        // scipy: 2 * scipy.stats.t.sf(sqrt(7)/2, 5)
        XCTAssertEqual(t.p!, 0.24314622431702557, accuracy: 1e-12)
        XCTAssertEqual([t.ftBetter, t.baseBetter, t.ties], [5, 1, 0])
        // Without the correction term it is the plain paired t.
        XCTAssertEqual(CorrectedResampledTest(differences: [0.02, 0.05, -0.01, 0.04, 0.03, 0.01], testTrainRatio: 0).t!,
                       7.0.squareRoot(), accuracy: 1e-12)
        XCTAssertNil(CorrectedResampledTest(differences: [0.1], testTrainRatio: 0.5).t)
        XCTAssertNotNil(CorrectedResampledTest(differences: [0.1, 0.1, 0.1], testTrainRatio: 0.5).note)
    }

    func results(repeats: Int, folds: Int) -> RunResults {
        var heads: [HeadResult] = []
        for r in 0..<repeats {
            for f in 0..<folds {
                let ftAcc: Double = 0.8 + 0.01 * Double(r * folds + f), baseAcc: Double = 0.7 + 0.02 * Double(f)
                for (model, acc) in [(ModelKind.ft, ftAcc), (ModelKind.base, baseAcc)] {
                    heads.append(HeadResult(shard: ShardKey(dataset: "d", variant: .balanced, fold: f, repeat: r), model: model, head: .svm,
                                            classes: ["crater", "rock"], confusion: [[1, 0], [0, 1]], accuracy: acc,
                                            precision: [0.5, 0.5], recall: [0.5, 0.5], f1: [0.5, 0.5],
                                            labels: [0, 1, 1, 1], predictions: [0, 1, 1, 1]))
                }
            }
        }
        return RunResults(configYAML: "", softwareVersion: "test", minorityClass: "crater", columns: ["d/balanced"], heads: heads,
                          foldDistributions: [FoldDistribution(dataset: "d", classes: ["crater", "rock"], counts: [[1, 3], [1, 3], [1, 3]])])
    }

    func testEntriesCoverEveryRepeatAndFoldAndMainTablesOnlyRepeatZero() throws {
        let res = results(repeats: 2, folds: 3)
        let entries = RepeatedCV.entries(res)
        let acc = try XCTUnwrap(entries.first { $0.head == .svm && $0.metric == "accuracy" })
        XCTAssertEqual(acc.values.count, 2 * 3 * 2)
        XCTAssertEqual(acc.test.n, 6)
        XCTAssertEqual(acc.repeats, 2)
        // 12 images, 4 per test fold: n_test/n_train = 4/8.
        XCTAssertEqual(acc.test.testTrainRatio, 0.5, accuracy: 1e-15)
        var ds: [Double] = []
        for r in 0..<2 {
            for f in 0..<3 {
                let ft: Double = 0.8 + 0.01 * Double(r * 3 + f)
                let base: Double = 0.7 + 0.02 * Double(f)
                ds.append(ft - base)
            }
        }
        let mean: Double = ds.reduce(0, +) / 6
        var variance: Double = 0
        for d in ds { variance += (d - mean) * (d - mean) }
        variance /= 5
        XCTAssertEqual(acc.test.t!, mean / ((1.0 / 6 + 0.5) * variance).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(acc.ft?.n, 6)
        let csv = RepeatedCV.csv(entries, minorityClass: "crater")
        XCTAssertEqual(csv.split(separator: "\n").filter { $0.hasPrefix("d,balanced,svm,accuracy,,") }.count, 12)
        // The paper's tables stay one cross-validation: repeat 0's three folds.
        let a = Aggregate(res)
        XCTAssertEqual(a.table1.first { $0.head == .svm && $0.model == .ft }?.cell.values.count, 3)
        XCTAssertEqual(a.paired.first { $0.head == .svm }?.test.n, 3)
        XCTAssertTrue(RepeatedCV.entries(results(repeats: 1, folds: 3)).isEmpty)
    }
}

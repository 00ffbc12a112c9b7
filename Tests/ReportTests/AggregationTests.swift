import XCTest
import Pipeline
@testable import Report

final class AggregationTests: XCTestCase {
    let A = Fixture.colA, B = Fixture.colB

    func testMeanStdDdof0And1ByHand() throws {
        // 0.8, 0.7, 0.9: mean 0.8, Σd² = 0.02 → ddof0 √(0.02/3), ddof1 √(0.02/2) = 0.1
        let s0 = try XCTUnwrap(MeanStd([0.8, 0.7, 0.9], ddof: 0))
        XCTAssertEqual(s0.mean, 0.8, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(s0.std), (0.02 / 3).squareRoot(), accuracy: 1e-12)
        let s1 = try XCTUnwrap(MeanStd([0.8, 0.7, 0.9], ddof: 1))
        XCTAssertEqual(try XCTUnwrap(s1.std), 0.1, accuracy: 1e-12)
        XCTAssertNil(MeanStd([], ddof: 0), "an empty sample is a gap, not zero")
        XCTAssertNil(MeanStd([0.5], ddof: 1)?.std, "std with n ≤ ddof is undefined (numpy: nan)")
        XCTAssertEqual(MeanStd([0.5], ddof: 0)?.std, 0)
    }

    func testTable1CellsAndFormatting() throws {
        let agg0 = Aggregate(Fixture.results(ddof: 0))
        let agg1 = Aggregate(Fixture.results(ddof: 1))
        XCTAssertEqual(agg0.foldsByColumn[A], [0, 1, 2])
        XCTAssertEqual(agg0.foldsByColumn[B], [0, 1])
        let svm0 = try XCTUnwrap(agg0.accuracy(A, .ft, .svm))
        XCTAssertEqual(svm0.summary?.n, 3)
        XCTAssertEqual(NumberFormat.percent(svm0), "80.00±8.16%")
        XCTAssertEqual(NumberFormat.percent(try XCTUnwrap(agg1.accuracy(A, .ft, .svm))), "80.00±10.00%")
        // FT knn fold 2 is missing: mean of 0.6 and 0.8, with the gap counted and explained.
        let knn = try XCTUnwrap(agg0.accuracy(A, .ft, .knn))
        XCTAssertEqual(knn.summary?.n, 2)
        XCTAssertEqual(knn.summary?.mean ?? 0, 0.7, accuracy: 1e-12)
        XCTAssertEqual(knn.gaps, [FoldGap(fold: 1, reason: "heads FT knn: worker w2 lost")])
        XCTAssertEqual(NumberFormat.percent(knn), "70.00±10.00% (2/3)")
        XCTAssertEqual(NumberFormat.percent(try XCTUnwrap(agg1.accuracy(A, .ft, .knn))), "70.00±14.14% (2/3)")
        // Base fc has no fold at all: "—" with the reasons, never 0.
        let fc = try XCTUnwrap(agg0.accuracy(A, .base, .fc))
        XCTAssertNil(fc.summary)
        XCTAssertEqual(NumberFormat.percent(fc), "—")
        XCTAssertEqual(fc.emptyReason,
                       "fold 1: baseline Base fc: failed: out of memory; fold 2: no result recorded; fold 3: no result recorded")
    }

    func testTable2BestPerHeadMarks() throws {
        let agg = Aggregate(Fixture.results())
        func marked(_ c: String, _ m: ModelKind, _ h: HeadKind, _ metric: String) throws -> Bool {
            try XCTUnwrap(agg.minority(c, m, h, metric)).marked
        }
        // single-site precision: FT svm 0.3 > Base 0.2; FT knn 0.5 (2 folds) > Base 0.4; FT fc only.
        XCTAssertEqual(agg.minority(A, .ft, .svm, "precision")?.summary?.mean ?? 0, 0.3, accuracy: 1e-12)
        XCTAssertTrue(try marked(A, .ft, .svm, "precision")); XCTAssertFalse(try marked(A, .base, .svm, "precision"))
        XCTAssertTrue(try marked(A, .ft, .knn, "precision")); XCTAssertFalse(try marked(A, .base, .knn, "precision"))
        XCTAssertTrue(try marked(A, .ft, .fc, "precision")); XCTAssertFalse(try marked(A, .base, .fc, "precision"))
        // recall: Base svm 0.3 > FT 0.1; knn tie 0.05 = 0.05 marks both.
        XCTAssertTrue(try marked(A, .base, .svm, "recall")); XCTAssertFalse(try marked(A, .ft, .svm, "recall"))
        XCTAssertTrue(try marked(A, .ft, .knn, "recall")); XCTAssertTrue(try marked(A, .base, .knn, "recall"))
        // multi-site is its own dataset: marked independently of single-site.
        XCTAssertTrue(try marked(B, .base, .knn, "precision")); XCTAssertFalse(try marked(B, .ft, .knn, "precision"))
        XCTAssertEqual(agg.minority(B, .ft, .svm, "recall")?.summary?.mean ?? 0, 0.45, accuracy: 1e-12)
    }

    func testTable3LargestPerColumnAndGaps() throws {
        let agg = Aggregate(Fixture.results())
        XCTAssertEqual(agg.layers, ["conv1", "conv2", "conv3", "conv4", "conv5", "fc1", "fc2"])
        let klA = try XCTUnwrap(agg.divergence(A, "conv1", "kl"))
        XCTAssertEqual(NumberFormat.plain(klA), "0.750±0.250 (2/3)")   // 0.5, 1.0
        XCTAssertEqual(klA.gaps, [FoldGap(fold: 2, reason: "divergence: not run yet")])
        XCTAssertTrue(klA.marked)
        XCTAssertFalse(try XCTUnwrap(agg.divergence(A, "fc1", "kl")).marked)
        let edA = try XCTUnwrap(agg.divergence(A, "fc1", "euclidean"))
        XCTAssertEqual(NumberFormat.plain(edA), "13.500±4.500 (2/3)")   // 9, 18
        XCTAssertTrue(edA.marked)
        XCTAssertEqual(agg.table3.filter { $0.column == A && $0.metric == "euclidean" && $0.cell.marked }.count, 1)
        XCTAssertEqual(NumberFormat.plain(try XCTUnwrap(agg.divergence(B, "conv1", "kl"))), "0.500±0.250")
    }

    func testPairedTestsByHand() throws {
        let agg = Aggregate(Fixture.results())
        func test(_ c: String, _ h: HeadKind) throws -> PairedTest { try XCTUnwrap(agg.paired.first { $0.column == c && $0.head == h }).test }
        // svm A: d = 0.05, 0.05, 0.10 → mean 1/15, sd 0.0288675 → t = 4, df 2, p = 1 − 4/√18
        let svm = try test(A, .svm)
        XCTAssertEqual(svm.n, 3); XCTAssertEqual(svm.df, 2)
        XCTAssertEqual(try XCTUnwrap(svm.t), 4, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(svm.p), 1 - 4 / 18.0.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(svm.ftBetter, 3); XCTAssertEqual(svm.baseBetter, 0)
        // knn A: only folds 1 and 3 paired: d = 0.1, 0.2 → t = 3, df 1, p = 1 − (2/π)·atan 3
        let knn = try test(A, .knn)
        XCTAssertEqual(knn.folds, [0, 2])
        XCTAssertEqual(try XCTUnwrap(knn.t), 3, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(knn.p), 1 - 2 / Double.pi * atan(3.0), accuracy: 1e-9)
        // fc A: no Base → no test; output A: constant differences → t undefined.
        XCTAssertNil(try test(A, .fc).t); XCTAssertEqual(try test(A, .fc).n, 0)
        let out = try test(A, .output)
        XCTAssertNil(out.t); XCTAssertEqual(out.ftBetter, 3)
        XCTAssertNotNil(out.note)
    }

    func testExtras() throws {
        let agg = Aggregate(Fixture.results())
        let conf = try XCTUnwrap(agg.confusions.first { $0.column == A && $0.model == .ft && $0.head == .svm })
        XCTAssertEqual(conf.folds.count, 3)
        XCTAssertEqual(conf.summed, [[3, 6], [3, 18]])
        let rock = try XCTUnwrap(agg.perClass.first { $0.column == B && $0.model == .ft && $0.head == .svm && $0.className == "rock" })
        XCTAssertEqual(rock.recall.summary?.mean ?? 0, 0.85, accuracy: 1e-12)
        let lime = try XCTUnwrap(agg.lime.first { $0.model == .base })
        XCTAssertNil(lime.pointing, "a missing score is a gap, not zero")
        XCTAssertEqual(lime.stability?.mean ?? 0, 0.6, accuracy: 1e-12)
        XCTAssertTrue(agg.hasOutputLayer)
    }
}

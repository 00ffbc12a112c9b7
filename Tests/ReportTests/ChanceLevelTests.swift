import XCTest
import Pipeline
@testable import Report

/// The chance-level flag: exact binomial tails by hand, the majority-class rate as chance,
/// pooling over folds, and how the flag reaches the tables.
final class ChanceLevelTests: XCTestCase {
    func testBinomialUpperTailByHand() {
        // P(X ≥ 8 | 10, ½) = (C(10,8) + C(10,9) + C(10,10)) / 2¹⁰ = (45 + 10 + 1) / 1024.
        XCTAssertEqual(ChanceLevel.binomialUpperTail(successes: 8, trials: 10, probability: 0.5), 56.0 / 1024, accuracy: 1e-14)
        XCTAssertEqual(ChanceLevel.binomialUpperTail(successes: 9, trials: 10, probability: 0.5), 11.0 / 1024, accuracy: 1e-14)
        // P(X ≥ 2 | 4, ¼) = 1 − ¾⁴ − 4·¼·¾³ = 1 − 81/256 − 108/256 = 67/256.
        XCTAssertEqual(ChanceLevel.binomialUpperTail(successes: 2, trials: 4, probability: 0.25), 67.0 / 256, accuracy: 1e-14)
        // scipy.stats.binomtest(300, 480, 0.6, alternative="greater").pvalue
        XCTAssertEqual(ChanceLevel.binomialUpperTail(successes: 300, trials: 480, probability: 0.6), 0.14187016113924902, accuracy: 1e-10)
        XCTAssertEqual(ChanceLevel.binomialUpperTail(successes: 0, trials: 5, probability: 0.3), 1)
        XCTAssertEqual(ChanceLevel.binomialUpperTail(successes: 6, trials: 5, probability: 0.3), 0)
        XCTAssertEqual(ChanceLevel.binomialUpperTail(successes: 5, trials: 5, probability: 1), 1, "nothing beats a chance rate of 1")
    }

    static func head(_ fold: Int, _ model: ModelKind, _ head: HeadKind, labels: [Int], predictions: [Int]) -> HeadResult {
        let correct = zip(labels, predictions).filter { $0 == $1 }.count
        return HeadResult(shard: ShardKey(dataset: "ss", variant: .imbalanced, fold: fold), model: model, head: head, classes: ["crater", "rock"],
                          confusion: [[0, 0], [0, 0]], accuracy: Double(correct) / Double(labels.count), precision: [0, 0], recall: [0, 0],
                          f1: [0, 0], labels: labels, predictions: predictions)
    }

    /// Balanced labels: FT 9/10 right in each of two folds; Base always says "rock".
    /// Imbalanced labels: Base SVM always predicts the majority class.
    static func results() -> RunResults {
        let balanced = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
        let nineRight = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
        let imbalanced = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
        var heads: [HeadResult] = []
        for fold in 0..<2 {
            heads.append(head(fold, .ft, .fc, labels: balanced, predictions: nineRight))
            heads.append(head(fold, .base, .fc, labels: balanced, predictions: Array(repeating: 1, count: 10)))
        }
        heads.append(head(0, .ft, .fc, labels: balanced, predictions: balanced))  // a duplicate shard: counted once
        heads.append(head(0, .base, .svm, labels: imbalanced, predictions: Array(repeating: 1, count: 10)))
        heads.append(head(0, .ft, .svm, labels: imbalanced, predictions: imbalanced))
        return RunResults(configYAML: "", softwareVersion: "test", minorityClass: "crater", columns: ["ss/imbalanced"], heads: heads)
    }

    func testPooledOverFoldsAgainstTheMajorityRate() throws {
        let e = ChanceLevel.entries(Self.results(), columns: ["ss/imbalanced"])
        func find(_ m: ModelKind, _ h: HeadKind) throws -> ChanceEntry { try XCTUnwrap(e.first { $0.model == m && $0.head == h }) }
        // FT FC: 9/10 per fold (p = 11/1024 > 0.01 alone), pooled 18/20 at ½: p = (190 + 20 + 1) / 2²⁰.
        let ft = try find(.ft, .fc)
        XCTAssertEqual([ft.correct, ft.total, ft.folds], [18, 20, 2])
        XCTAssertEqual(ft.chanceRate, 0.5)
        XCTAssertEqual(ft.pValue, 211.0 / 1_048_576, accuracy: 1e-15)
        XCTAssertTrue(ft.aboveChance)
        // Base FC: always "rock", 10/20 at ½: P(X ≥ 10 | 20, ½) > ½.
        let base = try find(.base, .fc)
        XCTAssertEqual(base.accuracy, 0.5)
        XCTAssertFalse(base.aboveChance)
        // Imbalanced: always the majority ("rock", 7 of 10) scores exactly the chance rate 0.7.
        let svm = try find(.base, .svm)
        XCTAssertEqual(svm.majorityClass, "rock")
        XCTAssertEqual(svm.chanceRate, 0.7, accuracy: 1e-15)
        XCTAssertEqual(svm.pValue, 0.6496107183999998, accuracy: 1e-12)
        XCTAssertFalse(svm.aboveChance, "predicting the majority class is not learning, however high its accuracy")
        // FT SVM: 10/10 at 0.7: p = 0.7¹⁰ = 0.0282 is not below 0.01: not *clearly* above chance with 10 images.
        let ftSVM = try find(.ft, .svm)
        XCTAssertEqual(ftSVM.pValue, pow(0.7, 10), accuracy: 1e-14)
        XCTAssertFalse(ftSVM.aboveChance)
        XCTAssertNil(e.first { $0.head == .knn }, "no results, no entry")
    }

    func testTablesNameTheHeadsAtChance() {
        let a = Aggregate(Self.results())
        let g = ChanceLevel.grid(a.chance)
        XCTAssertEqual(g.notes.first, "Did not learn (not clearly above chance): FT SVM on ss/imbalanced, Base SVM on ss/imbalanced, Base FC on ss/imbalanced.")
        let md = MarkdownTables.render(Self.results())
        XCTAssertTrue(md.contains("| ss/imbalanced | FC | Base | 50.00% (10/20) | 50.00% (crater) | "), md)
        XCTAssertTrue(md.contains("NO: at chance"))
        // The FT vs Base table says the FC difference is against a Base that never learned.
        let paired = MarkdownTables.grid(TableGrids.paired(a))
        XCTAssertTrue(paired.contains("+40.00 pp (Base at chance)"), paired)
        XCTAssertTrue(paired.contains("ss/imbalanced FC: Base stayed at chance (50.00% vs 50.00% for always 'crater')"), paired)
        XCTAssertTrue(HTMLReport.render(Self.results(), aggregate: a, runDirectory: nil, generatedAt: nil).contains("Heads at chance"))
        let clean = ChanceLevel.grid(a.chance.filter(\.aboveChance))
        XCTAssertEqual(clean.notes.first, "Every head is clearly above chance.")
    }
}

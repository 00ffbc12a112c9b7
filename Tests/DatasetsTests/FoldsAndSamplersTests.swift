import SeafoldCore
import XCTest
@testable import Datasets

final class StratifiedKFoldTests: XCTestCase {
    func testFirstAppearanceEncodingMatters() throws {
        // y = [5,5,3,3,3,3], k = 3. Encoded by first appearance: 5→0 (2), 3→1 (4).
        // y_order = [0,0,1,1,1,1]; fold0 ← positions 0,3 = (1,1); fold1 ← 1,4 = (1,1); fold2 ← 2,5 = (0,2).
        // class 5 ids [0,1] → samples 0,1; class 3 ids [0,1,2,2] → samples 2..5.
        // (Encoding in sorted order would give [1,2,0,0,1,2] instead.)
        let (folds, warnings) = try StratifiedKFold(nSplits: 3, shuffle: false, seed: 0).testFolds(labels: [5, 5, 3, 3, 3, 3])
        XCTAssertEqual(folds, [0, 1, 0, 1, 2, 2])
        XCTAssertEqual(warnings.count, 1)  // class 5 has 2 < 3 members
    }

    func testUnevenCountsByHand() throws {
        // y = [0,1,2,0,1,0,0,2,1,0]: counts 5,3,2. y_order = 0×5,1×3,2×2.
        // fold0 ← positions 0,3,6,9 = (2,1,1); fold1 ← 1,4,7 = (2,1,0); fold2 ← 2,5,8 = (1,1,1).
        // class 0 ids [0,0,1,1,2] → samples 0,3,5,6,9; class 1 [0,1,2] → 1,4,8; class 2 [0,2] → 2,7.
        let y = [0, 1, 2, 0, 1, 0, 0, 2, 1, 0]
        let kf = StratifiedKFold(nSplits: 3, shuffle: false, seed: 0)
        XCTAssertEqual(try kf.testFolds(labels: y).folds, [0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
        let splits = try kf.split(labels: y)
        XCTAssertEqual(splits.map(\.test), [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]])
        XCTAssertEqual(splits[1].train, [0, 1, 2, 3, 7, 8, 9])
    }

    func testShuffleKeepsPerFoldClassCountsAndIsSeeded() throws {
        var y: [Int] = []
        for i in 0..<200 { y.append(i % 7 == 0 ? 2 : (i % 3 == 0 ? 1 : 0)) }
        let plain = try StratifiedKFold(nSplits: 3, shuffle: false, seed: 0).testFolds(labels: y).folds
        let a = try StratifiedKFold(nSplits: 3, shuffle: true, seed: 42).testFolds(labels: y).folds
        let b = try StratifiedKFold(nSplits: 3, shuffle: true, seed: 42).testFolds(labels: y).folds
        let c = try StratifiedKFold(nSplits: 3, shuffle: true, seed: 43).testFolds(labels: y).folds
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, plain)
        XCTAssertNotEqual(a, c)
        func table(_ f: [Int]) -> [[Int]] {
            var t = [[Int]](repeating: [0, 0, 0], count: 3)
            for (i, fold) in f.enumerated() { t[fold][y[i]] += 1 }
            return t
        }
        XCTAssertEqual(table(a), table(plain))
    }

    func testErrorsAndWarnings() {
        assertThrowsMentioning("every class") { _ = try StratifiedKFold(nSplits: 3, shuffle: false, seed: 0).testFolds(labels: [0, 1, 0, 1]) }
        assertThrowsMentioning("at least 2") { _ = try StratifiedKFold(nSplits: 1, shuffle: false, seed: 0).split(labels: [0, 1]) }
        assertThrowsMentioning("samples") { _ = try StratifiedKFold(nSplits: 5, shuffle: false, seed: 0).split(labels: [0, 1, 1]) }
    }
}

final class SamplerTests: XCTestCase {
    func testBalancedFrequenciesWithinFiveSigma() {
        let labels = [Int](repeating: 0, count: 90) + [Int](repeating: 1, count: 9) + [2]
        var s = BalancedSampler(labels: labels)
        var rng = SeededGenerator(seed: 7)
        var counts = [0, 0, 0]
        let epochs = 200
        for _ in 0..<epochs {
            let e = s.epoch(rng: &rng)
            XCTAssertEqual(e.count, labels.count)
            for i in e { counts[labels[i]] += 1 }
        }
        // Each class has probability 1/3 per draw: n = 20000, σ = √(n·⅓·⅔) ≈ 66.7.
        let n = Double(epochs * labels.count), expected = n / 3, sigma = (n * 2 / 9).squareRoot()
        for c in counts { XCTAssertLessThan(abs(Double(c) - expected), 5 * sigma, "counts \(counts)") }
    }

    func testBalancedPickUsesCumulativeWeights() {
        // weights 1/2, 1/2, 1 (labels 0,0,1): total 2 → cumulative 0.5, 1, 2.
        let s = BalancedSampler(labels: [0, 0, 1])
        XCTAssertEqual(s.pick(0), 0)
        XCTAssertEqual(s.pick(0.2499), 0)
        XCTAssertEqual(s.pick(0.25), 1)
        XCTAssertEqual(s.pick(0.4999), 1)
        XCTAssertEqual(s.pick(0.5), 2)
        XCTAssertEqual(s.pick(0.9999), 2)
    }

    func testDeterminismAndShufflePermutation() {
        var a = BalancedSampler(labels: [0, 1, 1, 1, 2]), b = a
        var r1 = SeededGenerator(seed: 3), r2 = SeededGenerator(seed: 3)
        XCTAssertEqual(a.epoch(rng: &r1), b.epoch(rng: &r2))
        var sh = ShuffleSampler(count: 50)
        var r3 = SeededGenerator(seed: 9)
        let p = sh.epoch(rng: &r3)
        XCTAssertEqual(p.sorted(), Array(0..<50))
        XCTAssertNotEqual(p, Array(0..<50))
        var r4 = SeededGenerator(seed: 9)
        XCTAssertEqual(sh.epoch(rng: &r4), p)
    }
}

import Foundation
import SeafoldCore
import TestSupport
import XCTest
@testable import Datasets

/// seafold's folds against numbers NumPy and scikit-learn produced
/// (Tests/fixtures/sklearn_folds.json, written by scripts/sklearn_folds_fixture.py).
final class SklearnFoldsTests: XCTestCase {
    struct Fixture: Decodable {
        struct Raw: Decodable { var seed: UInt64; var values: [UInt32] }
        struct Bounded: Decodable { var seed: UInt64; var max: String; var values: [String] }
        struct Shuffle: Decodable { var seed: UInt64; var n: Int; var first: [Int]; var second: [Int] }
        struct Folds: Decodable { var pattern: String; var labels: [Int]; var k: Int; var shuffle: Bool; var seed: UInt64?; var folds: [Int]; var warned: Bool }
        struct Repeated: Decodable { var pattern: String; var labels: [Int]; var k: Int; var repeats: Int; var seed: UInt64; var folds: [[Int]] }
        struct Failure: Decodable { var labels: [Int]; var k: Int; var error: String? }
        var raw: [Raw]
        var bounded: [Bounded]
        var shuffles: [Shuffle]
        var folds: [Folds]
        var repeated: [Repeated]
        var errors: [Failure]
    }

    static let fixture: Fixture = {
        let url = RepositoryFiles.url("Tests/fixtures/sklearn_folds.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    func testRawMT19937OutputsEqualNumpy() throws {
        XCTAssertEqual(Self.fixture.raw.count, 7)
        for r in Self.fixture.raw {
            var rng = try NumpyRandomState(seed: r.seed)
            XCTAssertEqual((0..<r.values.count).map { _ in rng.nextUInt32() }, r.values, "seed \(r.seed)")
        }
    }

    func testBoundedIntegersEqualNumpyMaskedRule() throws {
        for b in Self.fixture.bounded {
            var rng = try NumpyRandomState(seed: b.seed)
            let max = UInt64(b.max)!
            XCTAssertEqual((0..<b.values.count).map { _ in String(rng.randomInterval(max)) }, b.values, "seed \(b.seed) max \(max)")
        }
    }

    func testShuffleEqualsRandomStateShuffle() throws {
        for s in Self.fixture.shuffles {
            var rng = try NumpyRandomState(seed: s.seed)
            var a = Array(0..<s.n), b = Array(0..<s.n)
            rng.shuffle(&a)
            rng.shuffle(&b)
            XCTAssertEqual(a, s.first, "seed \(s.seed) n \(s.n)")
            XCTAssertEqual(b, s.second, "seed \(s.seed) n \(s.n), second shuffle")
        }
    }

    func testFoldsEqualStratifiedKFold() throws {
        XCTAssertGreaterThan(Self.fixture.folds.count, 50)
        for f in Self.fixture.folds {
            let kf = StratifiedKFold(nSplits: f.k, shuffle: f.shuffle, seed: f.seed ?? 0)
            let (folds, warnings) = try kf.testFolds(labels: f.labels)
            XCTAssertEqual(folds, f.folds, "\(f.pattern) k=\(f.k) shuffle=\(f.shuffle) seed=\(f.seed.map(String.init) ?? "None")")
            XCTAssertEqual(!warnings.isEmpty, f.warned, "\(f.pattern) k=\(f.k): scikit-learn warned: \(f.warned)")
        }
    }

    func testRepeatsEqualRepeatedStratifiedKFold() throws {
        for r in Self.fixture.repeated {
            let got = try StratifiedKFold(nSplits: r.k, shuffle: true, seed: r.seed).repeatedTestFolds(labels: r.labels, repeats: r.repeats)
            XCTAssertEqual(got, r.folds, "\(r.pattern) k=\(r.k) repeats=\(r.repeats) seed=\(r.seed)")
            XCTAssertEqual(got[0], try StratifiedKFold(nSplits: r.k, shuffle: true, seed: r.seed).testFolds(labels: r.labels).folds)
            // The single-repetition entry point the tasks and `data folds` use: scikit-learn's repetition i.
            for i in 0..<r.repeats {
                XCTAssertEqual(try StratifiedKFold(nSplits: r.k, shuffle: true, seed: r.seed).testFolds(labels: r.labels, repetition: i).folds,
                               r.folds[i], "\(r.pattern) k=\(r.k) repetition \(i)")
            }
        }
    }

    func testErrorsWhereScikitLearnRaises() throws {
        for e in Self.fixture.errors {
            XCTAssertNotNil(e.error)
            // scikit-learn's message names n_splits; seafold's says the same and what to do.
            assertThrowsMentioning("n_splits") { _ = try StratifiedKFold(nSplits: e.k, shuffle: true, seed: 0).testFolds(labels: e.labels) }
        }
    }

    func testSeedAboveNumpyRangeIsAnError() throws {
        assertThrowsMentioning("4294967295") { _ = try NumpyRandomState(seed: 1 << 32) }
        assertThrowsMentioning("4294967295") { _ = try StratifiedKFold(nSplits: 3, shuffle: true, seed: 1 << 32).testFolds(labels: [0, 1, 0, 1, 0, 1]) }
        // Unshuffled folds use no generator, so any seed is fine.
        XCTAssertNoThrow(try StratifiedKFold(nSplits: 3, shuffle: false, seed: 1 << 40).testFolds(labels: [0, 1, 0, 1, 0, 1]))
    }
}

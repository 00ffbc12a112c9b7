import XCTest
import SeafoldCore
@testable import Classifiers

final class FeatureMatrixTests: XCTestCase {
    func testShapeValidationAndRows() throws {
        let m = try FeatureMatrix(rows: 2, cols: 3, values: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(Array(m.row(1)), [4, 5, 6])
        XCTAssertThrowsError(try FeatureMatrix(rows: 2, cols: 3, values: [1, 2, 3]))
        XCTAssertThrowsError(try FeatureMatrix([[1, 2], [3]]))
        XCTAssertThrowsError(try FeatureMatrix(rows: 1, cols: 2, values: [1, .nan]))
        let s = try m.selecting(rows: [1, 0, 1])
        XCTAssertEqual(s.values, [4, 5, 6, 1, 2, 3, 4, 5, 6])
        XCTAssertThrowsError(try m.selecting(rows: [2]))
    }
}

final class KNearestNeighborsTests: XCTestCase {
    // Training set: query (0,0) has sample 0 at distance 0 and samples 1, 2, 3 all at squared
    // distance 1. Stable order keeps 1 and 2 (not 3); their labels 1, 0, 2 tie one vote each,
    // and the lowest class index (0) wins. Had sample 3 been chosen the vote would be 1.
    let train: [[Float]] = [[0, 0], [1, 0], [-1, 0], [0, 1], [5, 5]]
    let trainLabels = [1, 0, 2, 1, 0]

    func testEqualDistancesKeepTrainingOrderAndVoteTieGoesToLowestClass() throws {
        var knn = KNearestNeighbors(k: 3)
        try knn.fit(try FeatureMatrix(train), labels: trainLabels)
        let q = try FeatureMatrix([[0, 0]])
        XCTAssertEqual(try knn.neighbors(q), [[0, 1, 2]])
        XCTAssertEqual(try knn.predict(q), [0])
    }

    func testMajorityVote() throws {
        var knn = KNearestNeighbors(k: 3)
        try knn.fit(try FeatureMatrix(train), labels: [1, 0, 2, 2, 0])
        // (-0.6, 0.6): samples 2 and 3 at 0.52 (exactly equal), sample 0 at 0.72, sample 1 at 2.92.
        let q = try FeatureMatrix([[-0.6, 0.6]])
        XCTAssertEqual(try knn.neighbors(q), [[2, 3, 0]])
        XCTAssertEqual(try knn.predict(q), [2])
        XCTAssertEqual(try knn.probabilities(q, numClasses: 3)[0], [0, 1.0 / 3, 2.0 / 3])
        // k = 1 returns the nearest sample's label.
        var one = KNearestNeighbors(k: 1)
        try one.fit(try FeatureMatrix(train), labels: [1, 0, 2, 2, 0])
        XCTAssertEqual(try one.predict(try FeatureMatrix([[4, 4], [0.9, 0.1]])), [0, 0])
    }

    /// Points near a large common offset: the BLAS estimate ‖q‖²+‖t‖²−2q·t is dominated by
    /// round-off there; the exact recomputation must still reproduce a brute-force Double sort.
    func testMatchesExactBruteForceUnderCancellation() throws {
        var rng = SeededGenerator(seed: 7)
        let d = 16, n = 40
        var rows: [[Float]] = []
        for _ in 0..<n { rows.append((0..<d).map { _ in 1000 + Float(rng.nextInt(below: 5)) * 0.0625 }) }
        let labels = (0..<n).map { _ in rng.nextInt(below: 3) }
        var knn = KNearestNeighbors(k: 3)
        try knn.fit(try FeatureMatrix(rows), labels: labels)
        let queries = (0..<10).map { _ in (0..<d).map { _ in 1000 + Float(rng.nextInt(below: 5)) * 0.0625 } }
        let got = try knn.neighbors(try FeatureMatrix(queries))
        for (qi, q) in queries.enumerated() {
            let dists = rows.map { r in zip(q, r).reduce(0.0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) } }
            let expected = (0..<n).sorted { dists[$0] < dists[$1] || (dists[$0] == dists[$1] && $0 < $1) }
            XCTAssertEqual(got[qi], Array(expected.prefix(3)), "query \(qi)")
        }
    }

    func testBadInput() throws {
        var knn = KNearestNeighbors(k: 3)
        XCTAssertThrowsError(try knn.fit(try FeatureMatrix([[0], [1]]), labels: [0, 1]))  // k > n
        XCTAssertThrowsError(try knn.fit(try FeatureMatrix([[0], [1], [2]]), labels: [0, 1]))
        try knn.fit(try FeatureMatrix([[0], [1], [2]]), labels: [0, 1, 1])
        XCTAssertThrowsError(try knn.predict(try FeatureMatrix([[0, 1]])))
    }
}

import XCTest
import SeafoldCore
@testable import Classifiers

final class LinearSVCTests: XCTestCase {
    /// Class 0 (+1): (2,1), (3,3); class 1 (−1): (0,1), (−1,−1). The closest opposite pair is
    /// (2,1)–(0,1) at distance 2 and the line x = 1 keeps every point at least 1 away, so the
    /// max-margin solution is w = (1, 0), b = −1 (ρ = 1). From w = Σ α y x:
    /// α(2,1)·(2,1) − α(0,1)·(0,1) = (1,0) ⇒ α = 0.5 for both support vectors (≤ C = 1).
    func testHandCheckedMaxMarginSolution() throws {
        let X = try FeatureMatrix([[2, 1], [3, 3], [0, 1], [-1, -1]])
        var svm = LinearSVC(C: 1, tolerance: 1e-9)
        try svm.fit(X, labels: [0, 0, 1, 1])
        let m = try XCTUnwrap(svm.machines.first)
        XCTAssertEqual(m.weights[0], 1, accuracy: 1e-6)
        XCTAssertEqual(m.weights[1], 0, accuracy: 1e-6)
        XCTAssertEqual(m.rho, 1, accuracy: 1e-6)
        XCTAssertEqual(m.alpha[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(m.alpha[1], 0, accuracy: 1e-9)
        XCTAssertEqual(m.alpha[2], 0.5, accuracy: 1e-6)
        XCTAssertEqual(m.alpha[3], 0, accuracy: 1e-9)
        XCTAssertEqual(try svm.predict(try FeatureMatrix([[1.5, 7], [0.5, -7], [10, 0]])), [0, 1, 0])
        // The default tolerance stops earlier but within a few multiples of it.
        var loose = LinearSVC()
        try loose.fit(X, labels: [0, 0, 1, 1])
        XCTAssertEqual(loose.machines[0].weights[0], 1, accuracy: 5e-3)
        XCTAssertEqual(loose.machines[0].rho, 1, accuracy: 5e-3)
    }

    func testKKTOnSeparableProblem() throws {
        var rng = SeededGenerator(seed: 11)
        var rows: [[Float]] = [], labels: [Int] = []
        for i in 0..<24 {
            let c = i % 2
            rows.append((0..<5).map { k in Float(rng.normal()) + (k == 0 ? (c == 0 ? 4 : -4) : 0) })
            labels.append(c)
        }
        try checkKKT(rows: rows, labels: labels, C: 1, expectBounded: false)
    }

    func testKKTOnNonSeparableProblem() throws {
        var rng = SeededGenerator(seed: 12)
        var rows: [[Float]] = [], labels: [Int] = []
        for i in 0..<30 {
            let c = i % 2
            rows.append((0..<4).map { k in Float(rng.normal()) + (k == 0 ? (c == 0 ? 0.5 : -0.5) : 0) })
            labels.append(c)
        }
        // The same point in both classes makes the problem non-separable for certain.
        rows.append([0.1, 0.2, 0.3, 0.4]); labels.append(0)
        rows.append([0.1, 0.2, 0.3, 0.4]); labels.append(1)
        try checkKKT(rows: rows, labels: labels, C: 1, expectBounded: true)
    }

    /// Checks the C-SVC optimality conditions from α alone (independently of the solver):
    /// box and equality constraints, libsvm's stopping rule m(α) − M(α) < tol, and the margin
    /// conditions y f(x) ≥ 1 − tol (α = 0), |y f(x) − 1| ≤ tol (free), y f(x) ≤ 1 + tol (α = C).
    private func checkKKT(rows: [[Float]], labels: [Int], C: Double, expectBounded: Bool) throws {
        let tol = 1e-3
        var svm = LinearSVC(C: C, tolerance: tol)
        try svm.fit(try FeatureMatrix(rows), labels: labels)
        let m = svm.machines[0]
        let order = labels.indices.filter { labels[$0] == 0 } + labels.indices.filter { labels[$0] == 1 }
        let y = order.map { labels[$0] == 0 ? 1.0 : -1.0 }
        let x = order.map { rows[$0].map(Double.init) }
        let l = order.count
        func k(_ a: Int, _ b: Int) -> Double { zip(x[a], x[b]).reduce(0) { $0 + $1.0 * $1.1 } }
        let a = m.alpha
        XCTAssertEqual(zip(a, y).reduce(0) { $0 + $1.0 * $1.1 }, 0, accuracy: 1e-10)
        for t in 0..<l { XCTAssertTrue(a[t] >= 0 && a[t] <= C, "alpha[\(t)] = \(a[t])") }
        // Gradient of the dual and the maximal violating pair.
        let G = (0..<l).map { t in (0..<l).reduce(-1.0) { $0 + y[t] * y[$1] * k(t, $1) * a[$1] } }
        var mUp = -Double.infinity, mLow = Double.infinity
        for t in 0..<l {
            let f = -y[t] * G[t]
            let inUp = (y[t] > 0 && a[t] < C) || (y[t] < 0 && a[t] > 0)
            let inLow = (y[t] > 0 && a[t] > 0) || (y[t] < 0 && a[t] < C)
            if inUp { mUp = max(mUp, f) }
            if inLow { mLow = min(mLow, f) }
        }
        XCTAssertLessThan(mUp - mLow, tol)
        for t in 0..<l {
            let f = zip(m.weights, x[t]).reduce(0) { $0 + $1.0 * $1.1 } - m.rho
            let margin = y[t] * f
            if a[t] <= 0 { XCTAssertGreaterThanOrEqual(margin, 1 - tol - 1e-9, "sample \(t)") }
            else if a[t] >= C { XCTAssertLessThanOrEqual(margin, 1 + tol + 1e-9, "sample \(t)") }
            else { XCTAssertEqual(margin, 1, accuracy: tol + 1e-9, "sample \(t)") }
        }
        XCTAssertEqual(a.contains(C), expectBounded)
    }

    func testVoteTieRule() {
        // 3 classes, pairs (0,1), (0,2), (1,2): votes 0→1, 2→1, 1→1: a three-way tie → class 0.
        XCTAssertEqual(LinearSVC.vote(decisions: [1, -1, 1], numClasses: 3), 0)
        // Votes 1: 2 (pairs (0,1), (1,2)), 0: 1 → class 1.
        XCTAssertEqual(LinearSVC.vote(decisions: [-1, 1, 1], numClasses: 3), 1)
        // A decision of exactly 0 votes for the second class of the pair.
        XCTAssertEqual(LinearSVC.vote(decisions: [0], numClasses: 2), 1)
        // 4 classes: (0,1)→1, (0,2)→2, (0,3)→0, (1,2)→1, (1,3)→3, (2,3)→2: votes 1,2,2,1 → class 1.
        XCTAssertEqual(LinearSVC.vote(decisions: [-1, -1, 1, 1, -1, 1], numClasses: 4), 1)
    }

    func testThreeClassToyAndLabelMapping() throws {
        let centres: [[Float]] = [[0, 0], [4, 0], [0, 4]]
        let offsets: [[Float]] = [[0.3, 0.1], [-0.2, 0.3], [0.1, -0.3], [-0.3, -0.2]]
        var rows: [[Float]] = [], labels: [Int] = []
        let classLabels = [1, 3, 4]  // class 0 and 2 absent: they must never be predicted
        for (c, centre) in centres.enumerated() {
            for o in offsets { rows.append([centre[0] + o[0], centre[1] + o[1]]); labels.append(classLabels[c]) }
        }
        var svm = LinearSVC()
        try svm.fit(try FeatureMatrix(rows), labels: labels)
        XCTAssertEqual(svm.classes, [1, 3, 4])
        XCTAssertEqual(svm.machines.map { [$0.first, $0.second] }, [[1, 3], [1, 4], [3, 4]])
        XCTAssertEqual(try svm.predict(try FeatureMatrix(centres + [[5, 0.5], [0.5, 5]])), [1, 3, 4, 3, 4])
        XCTAssertEqual(try svm.predict(try FeatureMatrix(rows)), labels)
    }

    func testBadInput() throws {
        var svm = LinearSVC()
        XCTAssertThrowsError(try svm.fit(try FeatureMatrix([[0], [1]]), labels: [2, 2]))
        XCTAssertThrowsError(try svm.predict(try FeatureMatrix([[0]])))
        try svm.fit(try FeatureMatrix([[0], [1]]), labels: [0, 1])
        XCTAssertThrowsError(try svm.predict(try FeatureMatrix([[0, 1]])))
    }
}

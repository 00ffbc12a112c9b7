import XCTest
@testable import Classifiers

/// Comparison with scikit-learn 1.9.1 `SVC(kernel='linear', C=1, decision_function_shape='ovo')`
/// (libsvm) on a small overlapping 3-class problem. The reference values were computed with
/// scikit-learn (X = round(randn(18,3)·8)/8 with numpy seed 0, class 1 shifted +1 in x0,
/// class 2 shifted +1 in x1; all values exact in Float). `coef_` rows are the pairs (0,1),
/// (0,2), (1,2) and `intercept_` = −ρ.
final class LinearSVCReferenceTests: XCTestCase {
    let X: [[Float]] = [[1.75, 0.375, 1.0], [3.25, 1.875, -1.0], [1.0, 0.875, -0.125], [0.375, 0.125, 1.5],
                        [1.75, 0.125, 0.5], [0.375, 2.5, -0.25], [0.375, -0.875, -2.5], [1.625, 0.875, -0.75],
                        [2.25, -0.5, 0.0], [-0.125, 1.5, 1.5], [1.125, 0.375, -0.875], [-2.0, 0.625, 0.125],
                        [1.25, 1.25, -0.375], [0.75, -1.0, -1.375], [-1.75, 3.0, -0.5], [-0.5, -1.25, 0.75],
                        [-0.625, -0.25, -0.875], [0.375, 0.5, -1.125]]
    let y = (0..<18).map { $0 % 3 }
    let Q: [[Float]] = [[0, 0.375, 0.125], [0.25, -0.625, -0.375], [-0.625, -0.375, -0.875],
                        [-1.75, 0.125, -0.375], [-1.625, 0.5, -0.875], [0, 0.75, 0.125]]
    // scikit-learn, tol = 1e-12, shrinking = False (the exact optimum).
    let coef: [[Double]] = [[-0.15187470336829856, -0.20503084954955653, 0.8277171333657594],
                            [0.22638985879483542, -0.4132292542047753, 0.6484814231775223],
                            [0.4639400334763746, -0.66447129029899, -0.384069572811248]]
    let intercept: [Double] = [0.04698623635437427, 0.11029729425828971, 0.39118331999113504]
    let decisionQ: [[Double]] = [[0.07356430944401052, 0.03639650182868928, 0.09399788952760774],
                                 [-0.17323208353138697, 0.1819825091434123, 1.0664889746013155],
                                 [-0.5054579971543951, -0.44365664244202363, 0.686458409140364],
                                 [-0.0232558139569583, -0.5807191490998403, -0.35974456007567585],
                                 [-0.5329852871419589, -1.0316220986660372, -0.35889400334762595],
                                 [-0.00332225913707324, -0.11856446849810154, -0.1551788443345135]]
    let predictTrain = [0, 1, 1, 0, 0, 2, 1, 1, 1, 0, 1, 2, 1, 1, 2, 0, 1, 1]
    let predictQ = [0, 1, 1, 2, 2, 2]

    func testMatchesLibsvmAtTightTolerance() throws {
        var svm = LinearSVC(C: 1, tolerance: 1e-12)
        try svm.fit(try FeatureMatrix(X), labels: y)
        for p in 0..<3 {
            for k in 0..<3 { XCTAssertEqual(svm.machines[p].weights[k], coef[p][k], accuracy: 1e-7, "pair \(p) w[\(k)]") }
            XCTAssertEqual(-svm.machines[p].rho, intercept[p], accuracy: 1e-7, "pair \(p) intercept")
        }
        let dec = try svm.decisionValues(try FeatureMatrix(Q))
        for i in 0..<Q.count { for p in 0..<3 { XCTAssertEqual(dec[i][p], decisionQ[i][p], accuracy: 1e-7) } }
        XCTAssertEqual(try svm.predict(try FeatureMatrix(X)), predictTrain)
        XCTAssertEqual(try svm.predict(try FeatureMatrix(Q)), predictQ)
    }

    func testDefaultToleranceAgreesWithinTolerance() throws {
        var svm = LinearSVC()  // tol 1e-3: the same answer to ~tol
        try svm.fit(try FeatureMatrix(X), labels: y)
        let dec = try svm.decisionValues(try FeatureMatrix(Q))
        for i in 0..<Q.count { for p in 0..<3 { XCTAssertEqual(dec[i][p], decisionQ[i][p], accuracy: 1e-2) } }
        XCTAssertEqual(try svm.predict(try FeatureMatrix(X)), predictTrain)
        XCTAssertEqual(try svm.predict(try FeatureMatrix(Q)), predictQ)
    }
}

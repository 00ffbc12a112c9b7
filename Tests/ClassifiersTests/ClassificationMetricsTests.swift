import XCTest
@testable import Classifiers

final class ClassificationMetricsTests: XCTestCase {
    /// 4 classes. Class 2 is never predicted; class 3 is absent from the labels and never
    /// predicted. Worked by hand:
    ///   labels      0 0 0 1 1 2 2
    ///   predictions 0 1 0 1 0 1 0
    /// confusion rows (true): 0 → [2,1,0,0], 1 → [1,1,0,0], 2 → [1,1,0,0], 3 → [0,0,0,0]
    /// class 0: tp 2, predicted 4, true 3 → P 1/2, R 2/3, F1 4/(4+2+1) = 4/7
    /// class 1: tp 1, predicted 3, true 2 → P 1/3, R 1/2, F1 2/(2+2+1) = 2/5
    /// class 2: tp 0, predicted 0 (P ill-defined → 0, warning), true 2 → R 0, F1 0/(0+0+2) = 0 (defined)
    /// class 3: nothing → P, R, F1 all ill-defined → 0 with three warnings.
    func testHandBuiltPredictions() throws {
        let m = try ClassificationMetrics(labels: [0, 0, 0, 1, 1, 2, 2], predictions: [0, 1, 0, 1, 0, 1, 0],
                                          numClasses: 4, classNames: ["rocks", "ripples", "craters", "wrecks"])
        XCTAssertEqual(m.confusion, [[2, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]])
        XCTAssertEqual(m.accuracy, 3.0 / 7, accuracy: 1e-15)
        XCTAssertEqual(m.support, [3, 2, 2, 0])
        let expP = [0.5, 1.0 / 3, 0, 0], expR = [2.0 / 3, 0.5, 0, 0], expF = [4.0 / 7, 0.4, 0, 0]
        for c in 0..<4 {
            XCTAssertEqual(m.precision[c], expP[c], accuracy: 1e-15)
            XCTAssertEqual(m.recall[c], expR[c], accuracy: 1e-15)
            XCTAssertEqual(m.f1[c], expF[c], accuracy: 1e-15)
        }
        XCTAssertEqual(m.macroPrecision, (0.5 + 1.0 / 3) / 4, accuracy: 1e-15)
        XCTAssertEqual(m.warnings, [
            "precision of class craters (index 2) is ill-defined (no predicted samples): 0.0",
            "precision of class wrecks (index 3) is ill-defined (no predicted samples): 0.0",
            "recall of class wrecks (index 3) is ill-defined (no true samples): 0.0",
            "F1 of class wrecks (index 3) is ill-defined (no true nor predicted samples): 0.0",
        ])
    }

    func testClassPredictedButAbsentFromLabels() throws {
        // Class 1 predicted once but never true: precision 0 (defined: 0/1), recall ill-defined.
        let m = try ClassificationMetrics(labels: [0, 0], predictions: [0, 1], numClasses: 2)
        XCTAssertEqual(m.precision, [1, 0])
        XCTAssertEqual(m.recall, [0.5, 0])
        XCTAssertEqual(m.f1[0], 2.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(m.f1[1], 0)
        XCTAssertEqual(m.warnings, ["recall of class 1 is ill-defined (no true samples): 0.0"])
    }

    func testBadInput() {
        XCTAssertThrowsError(try ClassificationMetrics(labels: [0], predictions: [0, 1], numClasses: 2))
        XCTAssertThrowsError(try ClassificationMetrics(labels: [0, 2], predictions: [0, 1], numClasses: 2))
        XCTAssertThrowsError(try ClassificationMetrics(labels: [], predictions: [], numClasses: 2))
        XCTAssertThrowsError(try ClassificationMetrics(labels: [0], predictions: [0], numClasses: 2, classNames: ["a"]))
    }
}

import XCTest
@testable import Report

/// Student t p-values against closed forms and tabulated critical values.
final class StudentTTests: XCTestCase {
    func testIncompleteBetaClosedForms() {
        for x in [0.01, 0.2, 0.5, 0.77, 0.99] {
            XCTAssertEqual(IncompleteBeta.regularized(x: x, a: 1, b: 1), x, accuracy: 1e-12)
            XCTAssertEqual(IncompleteBeta.regularized(x: x, a: 3, b: 1), pow(x, 3), accuracy: 1e-12)
            XCTAssertEqual(IncompleteBeta.regularized(x: x, a: 1, b: 2.5), 1 - pow(1 - x, 2.5), accuracy: 1e-12)
            // symmetry I_x(a,b) = 1 − I_{1−x}(b,a)
            XCTAssertEqual(IncompleteBeta.regularized(x: x, a: 2.5, b: 0.5),
                           1 - IncompleteBeta.regularized(x: 1 - x, a: 0.5, b: 2.5), accuracy: 1e-12)
        }
        XCTAssertEqual(IncompleteBeta.regularized(x: 0, a: 2, b: 3), 0)
        XCTAssertEqual(IncompleteBeta.regularized(x: 1, a: 2, b: 3), 1)
    }

    func testTabulatedCriticalValues() {
        // t tables: two-sided 5% critical values.
        XCTAssertEqual(StudentT.twoSidedP(12.706, df: 1), 0.05, accuracy: 2e-5)
        XCTAssertEqual(StudentT.twoSidedP(4.303, df: 2), 0.05, accuracy: 2e-5)
        XCTAssertEqual(StudentT.twoSidedP(2.776, df: 4), 0.05, accuracy: 5e-5)
        XCTAssertEqual(StudentT.twoSidedP(2.228, df: 10), 0.05, accuracy: 5e-5)
        XCTAssertEqual(StudentT.twoSidedP(2.576, df: 1e7), 0.01, accuracy: 1e-4)  // → normal
        XCTAssertEqual(StudentT.criticalValue(alpha: 0.05, df: 2), 4.302653, accuracy: 1e-5)
        XCTAssertEqual(StudentT.twoSidedP(0, df: 3), 1, accuracy: 1e-12)
    }

    func testClosedFormsDf1AndDf2() {
        for t in [0.1, 0.5, 1.0, 3.0, 25.0] {
            // df = 1 is Cauchy: P(T ≤ t) = ½ + atan(t)/π
            XCTAssertEqual(StudentT.cdf(t, df: 1), 0.5 + atan(t) / .pi, accuracy: 1e-12)
            XCTAssertEqual(StudentT.cdf(-t, df: 1), 0.5 - atan(t) / .pi, accuracy: 1e-12)
            // df = 2: P(T ≤ t) = ½ + t / (2√(2+t²))
            XCTAssertEqual(StudentT.cdf(t, df: 2), 0.5 + t / (2 * (2 + t * t).squareRoot()), accuracy: 1e-12)
        }
        // tiny p-values keep relative precision: df=1, t=1e6 → p ≈ 2/(π t)
        XCTAssertEqual(StudentT.twoSidedP(1e6, df: 1) / (2 / (Double.pi * 1e6)), 1, accuracy: 1e-6)
    }
}

import XCTest
@testable import Engine

final class BLASKernelTests: XCTestCase {
    func testSelfTestPassesOnLoadedKernel() {
        let r = BLASKernel.selfTest()
        XCTAssertTrue(r.passed, "worst relative error \(r.worstRelativeError) on \(BLASKernel.corename)")
        XCTAssertLessThan(r.worstRelativeError, 1e-5)
        XCTAssertFalse(BLASKernel.corename.isEmpty)
    }

    func testFallbackKernelTriggersReexecOnce() {
        // Prescott on an AVX-512 CPU, nothing chosen: re-exec with SkylakeX.
        XCTAssertEqual(BLASKernel.decideBeforeTest(env: [:], loaded: "Prescott", cpuBest: "SkylakeX"),
                       .reexec(kernel: "SkylakeX", tried: [], log: nil))
        // After the re-exec (marker set) never again.
        XCTAssertNil(BLASKernel.decideBeforeTest(env: ["SEAFOLD_BLAS_TRIED": "SkylakeX", "OPENBLAS_CORETYPE": "SkylakeX"],
                                                 loaded: "Prescott", cpuBest: "SkylakeX"))
        // A good kernel: nothing to do.
        XCTAssertNil(BLASKernel.decideBeforeTest(env: [:], loaded: "SkylakeX", cpuBest: "SkylakeX"))
        // Old CPU without AVX2: Prescott is right.
        XCTAssertNil(BLASKernel.decideBeforeTest(env: [:], loaded: "Prescott", cpuBest: nil))
    }

    func testUserOverrides() {
        // SEAFOLD_BLAS_CORETYPE wins over everything.
        XCTAssertEqual(BLASKernel.decideBeforeTest(env: ["SEAFOLD_BLAS_CORETYPE": "Haswell", "OPENBLAS_CORETYPE": "SkylakeX"],
                                                   loaded: "SkylakeX", cpuBest: "SkylakeX"),
                       .reexec(kernel: "Haswell", tried: [], log: nil))
        // A user-set OPENBLAS_CORETYPE is respected, but a slow choice is said out loud.
        let env = ["OPENBLAS_CORETYPE": "Prescott"]
        XCTAssertNil(BLASKernel.decideBeforeTest(env: env, loaded: "Prescott", cpuBest: "SkylakeX"))
        guard case let .run(log?) = BLASKernel.decideAfterTest(env: env, loaded: "Prescott", cpuBest: "SkylakeX",
                                                               passed: true, error: 1e-7, announce: false) else {
            return XCTFail("a slow kernel must be logged")
        }
        XCTAssert(log.contains("Prescott") && log.contains("user"), log)
    }

    func testFailedSelfTestStepsDownTheLadderAndSaysSo() {
        let a = BLASKernel.decideAfterTest(env: ["SEAFOLD_BLAS_TRIED": "SkylakeX", "OPENBLAS_CORETYPE": "SkylakeX"],
                                           loaded: "SkylakeX", cpuBest: "SkylakeX", passed: false, error: 0.3, announce: false)
        guard case let .reexec(k, tried, log?) = a else { return XCTFail("\(a)") }
        XCTAssertEqual(k, "Haswell"); XCTAssertEqual(tried, ["SkylakeX"]); XCTAssert(log.contains("FAILED"))
        let b = BLASKernel.decideAfterTest(env: ["SEAFOLD_BLAS_TRIED": "SkylakeX,Haswell", "OPENBLAS_CORETYPE": "Haswell"],
                                           loaded: "Haswell", cpuBest: "SkylakeX", passed: false, error: 0.3, announce: false)
        guard case let .reexec(k2, _, _) = b else { return XCTFail("\(b)") }
        XCTAssertEqual(k2, "Prescott")
        // Nothing left: run, but warn loudly.
        let c = BLASKernel.decideAfterTest(env: ["SEAFOLD_BLAS_TRIED": "SkylakeX,Haswell,Prescott", "OPENBLAS_CORETYPE": "Prescott"],
                                           loaded: "Prescott", cpuBest: "SkylakeX", passed: false, error: 0.3, announce: false)
        guard case let .run(log?) = c else { return XCTFail("\(c)") }
        XCTAssert(log.contains("WARNING"))
        // Passing kernel, not verbose, not a fallback: silent (stdout/stderr clean for --json).
        XCTAssertEqual(BLASKernel.decideAfterTest(env: [:], loaded: "SkylakeX", cpuBest: "SkylakeX", passed: true, error: 1e-7, announce: false),
                       .run(log: nil))
    }
}

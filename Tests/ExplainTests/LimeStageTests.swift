import XCTest
import SeafoldCore
@testable import Explain

/// `explain(…, observe:)` reports LIME's stages in the order the work runs, one model call per
/// batch, and the explanation does not depend on whether anyone observes.
final class LimeStageTests: XCTestCase {
    func testStagesArriveInOrderWithOneModelCallPerBatch() throws {
        let size = 32
        let img = TestImages.quadrants(size: size, noise: 0.1, seed: 3)
        let lime = LimeImageExplainer(numSamples: 25, batchSize: 10, segmentation: .slic(SLIC(nSegments: 8)), seed: 2)
        var stages: [LimeStage] = []
        let observed = try lime.explain(img, classifier: LimeTests.regionModel(original: img, size: size), observe: { stages.append($0) })
        // 25 samples in batches of 10: three batches, each perturbed then classified.
        var expected: [LimeStage] = [.started, .segmentation, .perturbation]
        for _ in 0..<3 { expected += [.perturbation, .model] }
        expected.append(.regression)
        XCTAssertEqual(stages, expected)
        let plain = try lime.explain(img, classifier: LimeTests.regionModel(original: img, size: size))
        XCTAssertEqual(observed, plain)
    }
}

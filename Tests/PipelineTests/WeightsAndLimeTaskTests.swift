import Engine
import Foundation
@testable import Pipeline
import SeafoldCore
import WeightStats
import XCTest

/// The divergence task's conventions and swap-test draws, and which class the explain task
/// explains, on the tiny experiment.
final class WeightsAndLimeTaskTests: XCTestCase {
    func testDivergenceTaskRecordsConventionsAndDraws() throws {
        let ws = try Workspace(self, yaml: Tiny.yaml(epochs: 2, extra: "divergence: {epsilon_on: counts, permutations: 19, bins: 30}"))
        let task = try ws.task(.divergence)
        try ws.runDependencies(of: task)
        let io = try ws.io(for: task, self)
        let out = try TaskRunner.run(spec: task.spec, io: io)
        let r = try JSONDecoder().decode(DivergenceResult.self, from: out.result)
        XCTAssertEqual(r.epsilonOn, "counts")
        XCTAssertEqual(r.bins, 30)
        XCTAssertNotNil(r.permutationSeed)
        XCTAssertEqual(r.layers.map(\.layer), PaperLayers.all.map(\.name))
        let ft = try Safetensors.read(from: try io.input("ft_weights")).tensors.mapValues { $0.scalars }
        let pre = try Safetensors.read(from: try io.input("pretrained")).tensors.mapValues { $0.scalars }
        for (row, layer) in zip(r.layers, PaperLayers.all) {
            let (a, b) = try LayerComparison.values(layer, fineTuned: ft, pretrained: pre, includeBiases: true)
            XCTAssertEqual(row.count, a.count)
            XCTAssertEqual(row.kl, try WeightComparison.compare(fineTuned: a, pretrained: b, bins: 30, epsilon: 1e-10, epsilonOn: .counts).kl)
            XCTAssertNotEqual(row.kl, try WeightComparison.compare(fineTuned: a, pretrained: b, bins: 30, epsilon: 1e-10, epsilonOn: .probabilities).kl,
                              "\(row.layer): the placement is used")
            let null = try XCTUnwrap(row.nullKL)
            XCTAssertEqual(null.count, 19)
            XCTAssertTrue(null.allSatisfy { $0.isFinite && $0 >= 0 })
        }
    }

    func testDivergenceWithoutPermutationsHasNoDraws() throws {
        let ws = try Workspace(self, yaml: Tiny.yaml(epochs: 1, extra: "divergence: {permutations: 0}"))
        let task = try ws.task(.divergence)
        try ws.runDependencies(of: task)
        let r = try JSONDecoder().decode(DivergenceResult.self, from: try TaskRunner.run(spec: task.spec, io: try ws.io(for: task, self)).result)
        XCTAssertEqual(r.epsilonOn, "probabilities")
        XCTAssertNil(r.permutationSeed)
        XCTAssertTrue(r.layers.allSatisfy { $0.nullKL == nil })
    }

    /// top_prediction: each model explains its own most probable class (its p is the largest of
    /// its prediction); true_class: both explain the image's label. Class names and the segmenter
    /// travel with the result.
    func testExplainedClassFollowsTheOption() throws {
        var seen: [String: [ExplainedImage]] = [:]
        for how in ["top_prediction", "true_class"] {
            let yaml = Tiny.yaml(epochs: 2).replacingOccurrences(
                of: "lime: {enabled: false}",
                with: "lime: {enabled: true, num_samples: 40, batch_size: 40, images_per_class: 1, stability_runs: 0, folds: [0], explain: \(how)}")
            let ws = try Workspace(self, yaml: yaml)
            let task = try ws.task(.explain)
            try ws.runDependencies(of: task)
            let out = try TaskRunner.run(spec: task.spec, io: try ws.io(for: task, self))
            let images = try JSONDecoder().decode([ExplainedImage].self, from: out.result)
            XCTAssertFalse(images.isEmpty)
            for img in images {
                XCTAssertEqual(img.classNames?.count, 4)
                XCTAssertNotNil(img.segmenter)
                for sc in img.scores {
                    XCTAssertEqual(sc.explainedBy, how)
                    if how == "true_class" { XCTAssertEqual(sc.explainedClass, img.trueClass) }
                }
            }
            seen[how] = images
        }
        // The predicted class's probability is the model's largest: with 4 classes at least 1/4,
        // and the true-class run's probability of that class is never above it.
        let top = try XCTUnwrap(seen["top_prediction"]), truth = try XCTUnwrap(seen["true_class"])
        for (a, b) in zip(top, truth) {
            XCTAssertEqual(a.imageIndex, b.imageIndex)
            for (sa, sb) in zip(a.scores, b.scores) {
                XCTAssertGreaterThanOrEqual(sa.probability, 0.25 - 1e-6)
                XCTAssertGreaterThanOrEqual(sa.probability, sb.probability - 1e-6, "image \(a.imageIndex) \(sa.model)")
            }
        }
    }
}

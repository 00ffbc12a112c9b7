import Foundation
@testable import Pipeline
import SeafoldCore
import XCTest

/// Issue 4, Evidence: the same config and seed give identical result JSON. Two fresh run
/// directories, the same experiment: every task of fold 0 (pretrain, fine-tune, baseline, SVM,
/// KNN and FC heads on both models, divergence) gives byte-identical result JSON and task ids,
/// and the fine-tune's weights are byte-identical too. A different seed changes them (so the
/// comparison can fail).
final class DeterminismTests: XCTestCase {
    func testSameSpecTwiceGivesIdenticalResultJSON() throws {
        let yaml = Tiny.yaml(pretrained: "synthetic", variant: "imbalanced", epochs: 2, headEpochs: 3)
        let a = try runFold0(yaml)
        let b = try runFold0(yaml)
        XCTAssertEqual(a.map(\.task.id), b.map(\.task.id), "content-derived ids do not depend on the run directory")
        let kinds = Set(a.map(\.task.kind))
        XCTAssertEqual(kinds, [.pretrain, .finetune, .baseline, .heads, .divergence])
        XCTAssertEqual(Set(a.filter { $0.task.kind == .heads }.compactMap(\.task.spec.head)), [.svm, .knn, .fc])
        for (x, y) in zip(a, b) {
            XCTAssertFalse(x.result.isEmpty)
            XCTAssertEqual(x.result, y.result, "result JSON of \(x.task.label)")
        }
        let ftA = try XCTUnwrap(a.first { $0.task.kind == .finetune }), ftB = try XCTUnwrap(b.first { $0.task.kind == .finetune })
        XCTAssertEqual(try fileBytes(ftA.artifacts["weights.safetensors"]), try fileBytes(ftB.artifacts["weights.safetensors"]))

        // The results carry content: a divergence row per paper layer, finite numbers.
        let dv = try JSONDecoder().decode(DivergenceResult.self, from: try XCTUnwrap(a.first { $0.task.kind == .divergence }).result)
        XCTAssertEqual(dv.layers.map(\.layer).count, 7)
        XCTAssertTrue(dv.layers.allSatisfy { $0.kl.isFinite && $0.euclidean > 0 })

        // Another seed: other results (the check above is not vacuous).
        let c = try runFold0(Tiny.yaml(seed: 12, pretrained: "synthetic", variant: "imbalanced", epochs: 2, headEpochs: 3), only: [.pretrain, .finetune])
        let ftC = try XCTUnwrap(c.first { $0.task.kind == .finetune })
        XCTAssertNotEqual(ftA.result, ftC.result)
    }

    /// Runs fold 0's tasks (and the pretrain) of `yaml` in a fresh run directory, in dependency order.
    private func runFold0(_ yaml: String, only kinds: Set<TaskKind> = [.pretrain, .finetune, .baseline, .heads, .divergence]) throws -> [CompletedTask] {
        let ws = try Workspace(self, yaml: yaml)
        let tasks = ws.graph.tasks.filter { kinds.contains($0.kind) && ($0.kind == .pretrain || $0.spec.shard?.fold == 0) }
        let (completed, incomplete) = ws.executor.run(TaskGraph(tasks: tasks))
        XCTAssertTrue(incomplete.isEmpty, "\(incomplete.map { "\($0.task.label): \($0.reason)" })")
        return completed
    }
}

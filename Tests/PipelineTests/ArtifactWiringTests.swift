import Foundation
import XCTest
@testable import Pipeline

/// The planner wires each input to an output its producer's kind declares, and the tasks write
/// exactly those declared outputs.
final class ArtifactWiringTests: XCTestCase {
    func testEveryTaskInputIsADeclaredOutputOfItsProducer() throws {
        for preset in PresetPlanFixture.presets {
            let config = try ConfigLoader.parse(try XCTUnwrap(Presets.yaml(preset.name)))
            let graph = try Planner.plan(config, datasets: preset.datasets.map { DatasetSummary(name: $0.name, classes: $0.classes, labels: [], hash: $0.hash) })
            var wired = 0
            for t in graph.tasks {
                for case let (input, .task(id, name)) in t.inputs {
                    let producer = try XCTUnwrap(graph.task(id), "\(t.label) reads a task that is not planned")
                    XCTAssertTrue(producer.kind.outputs.contains(ArtifactName(name)),
                                  "\(t.label) input '\(input)' is '\(name)', which a \(producer.kind.rawValue) task does not write")
                    wired += 1
                }
            }
            XCTAssertGreaterThan(wired, 0)
        }
    }

    func testNetworkTasksWriteTheirDeclaredOutputs() throws {
        let ws = try Workspace(self, yaml: Tiny.yaml())
        for kind in [TaskKind.pretrain, .finetune, .baseline] {
            let task = try ws.task(kind)
            try ws.runDependencies(of: task)
            let out = try TaskRunner.run(spec: task.spec, io: try ws.io(for: task, self))
            XCTAssertEqual(Set(out.artifacts.keys), Set(kind.outputs.map(\.rawValue)), kind.rawValue)
        }
    }
}

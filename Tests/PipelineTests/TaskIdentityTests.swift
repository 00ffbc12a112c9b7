import Foundation
import XCTest
@testable import Pipeline

/// Task ids are the ledger's keys and the stored spec JSON is what a resumed run reads back: the
/// typed contract must reproduce both exactly for every preset (`PresetPlanFixture`, recorded from
/// the plans of the code before it).
final class TaskIdentityTests: XCTestCase {
    func plan(_ preset: PresetPlanFixture.Preset) throws -> TaskGraph {
        let config = try ConfigLoader.parse(try XCTUnwrap(Presets.yaml(preset.name)))
        let datasets = preset.datasets.map { DatasetSummary(name: $0.name, classes: $0.classes, labels: [], hash: $0.hash) }
        return try Planner.plan(config, datasets: datasets)
    }

    func testEveryPresetPlansTheRecordedTaskIds() throws {
        for preset in PresetPlanFixture.presets {
            let graph = try plan(preset)
            XCTAssertEqual(graph.tasks.count, preset.ids.count, preset.name)
            for (t, id) in zip(graph.tasks, preset.ids) where t.id != id {
                XCTFail("\(preset.name): \(t.label) has id \(t.id), recorded \(id)")
            }
        }
    }

    func testStoredSpecsDecodeToTheSpecsThatHashToTheirIds() throws {
        let graph = try plan(PresetPlanFixture.presets[0])
        for (id, json) in PresetPlanFixture.smokeSpecs {
            let task = try XCTUnwrap(graph.task(id), "no task \(id) in the smoke plan")
            let stored = try TaskSpec.decode(Data(json.utf8))
            XCTAssertEqual(stored, task.spec, task.label)
            XCTAssertEqual(stored.encoded(), task.spec.encoded(), task.label)
            XCTAssertEqual(try TaskSpec.decode(task.spec.encoded()), task.spec, task.label)
        }
    }
}

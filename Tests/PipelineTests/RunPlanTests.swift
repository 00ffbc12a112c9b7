import Foundation
@testable import Pipeline
import SeafoldCore
import XCTest

/// RUN/plan.json: written by `ExperimentSetup.prepare`, read back equal, replaced only with the
/// differences said, and a clear error when it is missing or unreadable.
final class RunPlanTests: XCTestCase {
    func planURL(_ dir: URL) -> URL { dir.appendingPathComponent(RunPlan.fileName) }

    func testPrepareSavesThePlanAndItReadsBackEqual() throws {
        let dir = try temporaryDirectory(self)
        let setup = try ExperimentSetup.prepare(yaml: Tiny.yaml(), runDirectory: dir)
        let plan = try RunPlan.load(runDirectory: dir)
        XCTAssertEqual(plan, setup.plan)
        XCTAssertEqual(plan.format, RunPlan.currentFormat)
        XCTAssertEqual(plan.tasks.map(\.id), setup.graph.tasks.map(\.id))
        XCTAssertEqual(plan.config, try ConfigLoader.parse(Tiny.yaml()))
        XCTAssertEqual(plan.configYAML, try String(contentsOf: dir.appendingPathComponent("experiment.yaml"), encoding: .utf8))
        // The dataset as the pack has it: counts from the labels, each file's hash from its bytes.
        let pack = try XCTUnwrap(setup.datasets.first)
        let d = try XCTUnwrap(plan.datasets.first)
        XCTAssertEqual(d.name, "ds")
        XCTAssertEqual(d.labels.count, 24)
        XCTAssertEqual(d.classCounts.reduce(0, +), 24)
        for (c, n) in d.classCounts.enumerated() { XCTAssertEqual(n, d.labels.filter { $0 == c }.count) }
        XCTAssertEqual(d.summary, pack.summary)
        XCTAssertEqual(Set(d.packFiles.keys), ["images.npy", "meta.json", "masks.npy"])
        for (name, hash) in d.packFiles { XCTAssertEqual(hash, try sha256Hex(of: pack.directory.appendingPathComponent(name)), name) }
        XCTAssertEqual(d.contactSheet, "datasets/ds/contact_sheet.png")
        // No temporary file is left beside it.
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertFalse(names.contains { $0.hasSuffix(".tmp") }, "\(names)")
    }

    /// The typed config handed in is the one planned: nothing parses the YAML text again (a
    /// second parse would plan with the text's seed, 11, not the value's).
    func testTheGivenConfigValueIsPlannedNotItsTextParsedAgain() throws {
        let dir = try temporaryDirectory(self)
        var config = try ConfigLoader.parse(Tiny.yaml())
        config.seed = 12345
        let setup = try ExperimentSetup.prepare(config: config, yaml: Tiny.yaml(), runDirectory: dir)
        XCTAssertEqual(setup.config.seed, 12345)
        XCTAssertEqual(try RunPlan.load(runDirectory: dir).config.seed, 12345)
        XCTAssertTrue(setup.graph.tasks.allSatisfy { $0.spec.seed == 12345 })
    }

    func testResumeWithTheSameConfigLeavesThePlanAlone() throws {
        let dir = try temporaryDirectory(self)
        _ = try ExperimentSetup.prepare(yaml: Tiny.yaml(), runDirectory: dir)
        let before = try Data(contentsOf: planURL(dir))
        let resumed = try ExperimentSetup.prepare(yaml: nil, runDirectory: dir)
        XCTAssertFalse(resumed.warnings.contains { $0.contains("plan") }, "\(resumed.warnings)")
        XCTAssertEqual(try Data(contentsOf: planURL(dir)), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent(RunPlan.previousFileName).path))
    }

    /// A changed config replaces the plan, says what changed, and keeps the old plan.
    func testAChangedConfigSaysWhatDiffersAndKeepsTheOldPlan() throws {
        let dir = try temporaryDirectory(self)
        let first = try ExperimentSetup.prepare(yaml: Tiny.yaml(epochs: 4), runDirectory: dir)
        let second = try ExperimentSetup.prepare(yaml: Tiny.yaml(epochs: 5), runDirectory: dir)
        let said = second.warnings.joined(separator: "\n")
        XCTAssertTrue(said.contains("config training.epochs: 4 → 5"), said)
        XCTAssertTrue(said.contains("tasks added"), said)
        XCTAssertTrue(said.contains("tasks no longer planned"), said)
        XCTAssertTrue(said.contains(RunPlan.previousFileName), said)
        XCTAssertFalse(said.contains("dataset ds"), "the images did not change: \(said)")
        XCTAssertEqual(try RunPlan.load(runDirectory: dir), second.plan)
        let kept = try RunPlan.decode(Data(contentsOf: dir.appendingPathComponent(RunPlan.previousFileName)), path: "previous")
        XCTAssertEqual(kept, first.plan)
    }

    func testDescribeNamesDatasetAndWeightChanges() throws {
        let dir = try temporaryDirectory(self)
        let old = try ExperimentSetup.prepare(yaml: Tiny.yaml(), runDirectory: dir).plan
        var new = old
        new.datasets[0].packHash = String(repeating: "a", count: 64)
        new.datasets[0].classCounts[0] += 1
        new.pretrainedFileHash = String(repeating: "b", count: 64)
        let lines = RunPlanChanges.describe(old: old, new: new)
        XCTAssertTrue(lines.contains { $0.hasPrefix("dataset ds: pack ") && $0.contains("→ aaaaaaaaaaaa") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("dataset ds: images per class") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("pretrained weights file: sha256 none → bbbbbbbbbbbb") }, "\(lines)")
        XCTAssertEqual(RunPlanChanges.describe(old: old, new: old), [])
    }

    func testAMissingPlanNamesTheFileAndTheFix() throws {
        let dir = try temporaryDirectory(self)
        _ = try ExperimentSetup.prepare(yaml: Tiny.yaml(), runDirectory: dir)
        try FileManager.default.removeItem(at: planURL(dir))
        XCTAssertThrowsError(try RunPlan.load(runDirectory: dir)) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains(self.planURL(dir).path), s)
            XCTAssertTrue(s.contains("older seafold"), s)
            XCTAssertTrue(s.contains("--rebuild-plan"), s)
        }
        // Not a run directory at all: said differently.
        let empty = try temporaryDirectory(self, "empty")
        XCTAssertThrowsError(try RunPlan.load(runDirectory: empty)) { e in
            XCTAssertTrue("\(e)".contains("not a run directory"), "\(e)")
        }
    }

    func testAnUnreadablePlanIsAClearErrorAndIsReplacedOnResume() throws {
        let dir = try temporaryDirectory(self)
        let setup = try ExperimentSetup.prepare(yaml: Tiny.yaml(), runDirectory: dir)
        for (bytes, expected) in [("{\"format\": 99}", "newer"), ("not json", "not a JSON plan"),
                                  ("{\"format\": 1, \"tasks\": 3}", "does not decode"), ("{}", "no \"format\" field")] {
            try Data(bytes.utf8).write(to: planURL(dir))
            XCTAssertThrowsError(try RunPlan.load(runDirectory: dir)) { e in
                XCTAssertTrue("\(e)".contains(expected), "\(bytes): \(e)")
                XCTAssertTrue("\(e)".contains(self.planURL(dir).path), "\(e)")
            }
        }
        let resumed = try ExperimentSetup.prepare(yaml: nil, runDirectory: dir)
        XCTAssertTrue(resumed.warnings.contains { $0.contains("could not be read") }, "\(resumed.warnings)")
        XCTAssertEqual(try RunPlan.load(runDirectory: dir), setup.plan)
    }
}

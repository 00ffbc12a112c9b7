import Foundation
import XCTest
@testable import Pipeline

/// A stored result that does not decode as its kind's result type is a gap in the report whose
/// reason names the task (id, kind, label), the file and the field — never a silent omission.
final class CorruptResultTests: XCTestCase {
    func plan() throws -> (ExperimentConfig, [DatasetSummary], TaskGraph) {
        let config = try ConfigLoader.parse(Presets.smoke)
        let labels = Array(repeating: [0, 1, 2, 3], count: 6).flatMap { $0 }
        let datasets = ["multi-site", "single-site"].map { DatasetSummary(name: $0, classes: ["craters", "flat", "rocky", "sand ripple"], labels: labels, hash: $0) }
        return (config, datasets, try Planner.plan(config, datasets: datasets))
    }

    /// Plants `result` as the stored result of `task` in a local run directory and collects it.
    func collectPlanted(_ result: String, for task: PlannedTask) throws -> (RunResults, URL) {
        let (config, datasets, _) = try plan()
        let run = try temporaryDirectory(self)
        let executor = LocalExecutor(runDirectory: run)
        let dir = executor.taskDirectory(task.id)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let resultURL = dir.appendingPathComponent("result.json")
        try Data(result.utf8).write(to: resultURL)
        try Data("[]".utf8).write(to: dir.appendingPathComponent("artifacts.json"))
        let completed = try executor.runOne(task)  // the stored result, as a resumed run reads it
        let results = ResultsCollector.collect(config: config, configYAML: "", softwareVersion: "test", datasets: datasets,
                                               completed: [completed], incomplete: [], timeline: [], contactSheets: [:], runDirectory: run)
        return (results, resultURL)
    }

    func testAHeadsResultMissingAFieldIsAGapNamingTaskFileAndField() throws {
        let task = try XCTUnwrap(try plan().2.tasks.first { $0.kind == .heads && $0.spec.head == .knn })
        let (results, file) = try collectPlanted(#"{"curve": null}"#, for: task)
        XCTAssertTrue(results.heads.isEmpty)
        let gap = try XCTUnwrap(results.missing.first, "the corrupt result must be reported, not dropped")
        XCTAssertEqual(results.missing.count, 1)
        XCTAssertEqual(gap.taskKind, "heads")
        XCTAssertEqual(gap.shard, task.spec.shard)
        for part in [task.id, "heads task '\(task.label)'", file.path, "at field 'head'", "the field is missing"] {
            XCTAssertTrue(gap.reason.contains(part), "'\(part)' not in: \(gap.reason)")
        }
    }

    func testAWrongTypeDeepInAFineTuneResultNamesItsPath() throws {
        let task = try XCTUnwrap(try plan().2.tasks.first { $0.kind == .finetune })
        let (results, _) = try collectPlanted(#"{"curve": {"shard": {"dataset": "d", "variant": "balanced", "fold": "one"}}}"#, for: task)
        let gap = try XCTUnwrap(results.missing.first)
        XCTAssertTrue(gap.reason.contains("finetune task '\(task.label)' (\(task.id))"), gap.reason)
        XCTAssertTrue(gap.reason.contains("at field 'curve.shard.fold'"), gap.reason)
        XCTAssertTrue(gap.reason.contains("expected Int"), gap.reason)
    }

    func testNotJSONAtAllIsNamedToo() throws {
        let task = try XCTUnwrap(try plan().2.tasks.first { $0.kind == .divergence })
        let (results, file) = try collectPlanted("{truncated", for: task)
        let gap = try XCTUnwrap(results.missing.first)
        XCTAssertTrue(gap.reason.contains("divergence task '\(task.label)'"), gap.reason)
        XCTAssertTrue(gap.reason.contains(file.path), gap.reason)
        XCTAssertFalse(gap.reason.contains("at field"), "the document itself is broken: \(gap.reason)")
    }

    func testASpecLackingAFieldItsKindNeedsNamesTheField() throws {
        let json = #"{"formatVersion":1,"kind":"divergence","seed":7,"shard":{"dataset":"d","fold":0,"variant":"balanced"}}"#
        XCTAssertThrowsError(try TaskSpec.decode(Data(json.utf8))) { e in
            XCTAssertTrue("\(e)".contains("a divergence task spec needs 'divergence'"), "\(e)")
        }
    }
}

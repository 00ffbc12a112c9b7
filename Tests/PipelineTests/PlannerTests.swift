import XCTest
@testable import Pipeline

final class PlannerTests: XCTestCase {
    func datasets() -> [DatasetSummary] {
        [DatasetSummary(name: "multi-site", classes: ["craters", "flat", "rocky", "sand ripple"], labels: Array(repeating: [0, 1, 2, 3], count: 6).flatMap { $0 }, hash: "aa"),
         DatasetSummary(name: "single-site", classes: ["craters", "flat", "rocky", "sand ripple"], labels: Array(repeating: [0, 1, 1, 1, 2, 3], count: 6).flatMap { $0 }, hash: "bb")]
    }

    func testGraphShapeForTheSmokePreset() throws {
        let c = try ConfigLoader.parse(Presets.smoke)
        let g = try Planner.plan(c, datasets: datasets())
        let shards = 3 * (1 + 2)  // folds × (multi-site imbalanced + single-site both)
        XCTAssertEqual(g.tasks.filter { $0.kind == .pretrain }.count, 1)
        XCTAssertEqual(g.tasks.filter { $0.kind == .finetune }.count, shards)
        XCTAssertEqual(g.tasks.filter { $0.kind == .baseline }.count, shards)
        XCTAssertEqual(g.tasks.filter { $0.kind == .heads }.count, shards * 2 * 3)
        XCTAssertEqual(g.tasks.filter { $0.kind == .divergence }.count, shards)
        XCTAssertEqual(g.tasks.filter { $0.kind == .explain }.count, 3)  // fold 0 of each column
        XCTAssertEqual(Set(g.tasks.map(\.id)).count, g.tasks.count, "ids are unique")
        // Every dependency exists and comes from an input.
        let ids = Set(g.tasks.map(\.id))
        for t in g.tasks { for d in t.dependencies { XCTAssertTrue(ids.contains(d)) } }
        // Fine-tunes run before heads.
        let ft = g.tasks.first { $0.kind == .finetune }!, hd = g.tasks.first { $0.kind == .heads }!
        XCTAssertGreaterThan(ft.priority, hd.priority)
    }

    func testIdsAreStableAndChangeOnlyWithWhatATaskDependsOn() throws {
        var c = try ConfigLoader.parse(Presets.smoke)
        let a = try Planner.plan(c, datasets: datasets())
        let b = try Planner.plan(c, datasets: datasets())
        XCTAssertEqual(a.tasks.map(\.id), b.tasks.map(\.id))

        // A changed head setting reuses every fine-tune and baseline, and changes only KNN tasks.
        c.knn.k = 5
        let k5 = try Planner.plan(c, datasets: datasets())
        let before = Set(a.tasks.map(\.id)), after = Set(k5.tasks.map(\.id))
        let changed = k5.tasks.filter { !before.contains($0.id) }
        XCTAssertFalse(changed.isEmpty)
        XCTAssertTrue(changed.allSatisfy { $0.kind == .heads && $0.spec.head == .knn })
        XCTAssertTrue(a.tasks.filter { $0.kind == .finetune }.allSatisfy { after.contains($0.id) })

        // A changed learning rate changes fine-tunes and everything downstream of them.
        c.training.lr = 0.01
        let lr = try Planner.plan(c, datasets: datasets())
        XCTAssertTrue(lr.tasks.filter { $0.kind == .finetune }.allSatisfy { !before.contains($0.id) })
        XCTAssertEqual(lr.tasks.first { $0.kind == .pretrain }?.id, a.tasks.first { $0.kind == .pretrain }?.id)
    }

    func testChangedDatasetChangesItsTasks() throws {
        let c = try ConfigLoader.parse(Presets.smoke)
        var ds = datasets()
        let a = try Planner.plan(c, datasets: ds)
        ds[1].hash = "cc"
        let b = try Planner.plan(c, datasets: ds)
        let old = Set(a.tasks.map(\.id))
        for t in b.tasks where t.kind == .finetune {
            XCTAssertEqual(old.contains(t.id), t.spec.shard?.dataset == "multi-site")
        }
    }
}

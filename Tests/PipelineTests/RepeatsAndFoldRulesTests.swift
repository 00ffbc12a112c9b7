import Datasets
import XCTest
@testable import Pipeline

final class RepeatsAndFoldRulesTests: XCTestCase {
    let labels = Array(repeating: [0, 1, 2, 3], count: 6).flatMap { $0 }
    func datasets() -> [DatasetSummary] {
        [DatasetSummary(name: "multi-site", classes: ["craters", "flat", "rocky", "sand ripple"], labels: labels, hash: "aa"),
         DatasetSummary(name: "single-site", classes: ["craters", "flat", "rocky", "sand ripple"], labels: Array(repeating: [0, 1, 1, 1, 2, 3], count: 6).flatMap { $0 }, hash: "bb")]
    }

    func testRepeatsAddShardsAndKeepRepeatZeroIds() throws {
        let one = try ConfigLoader.parse(Presets.smoke)
        let two = try ConfigLoader.parse("preset: smoke\nrepeats: 2\n")
        XCTAssertEqual(two.repeats, 2)
        let a = try Planner.plan(one, datasets: datasets()), b = try Planner.plan(two, datasets: datasets())
        XCTAssertEqual(b.tasks.filter { $0.kind == .finetune }.count, 2 * a.tasks.filter { $0.kind == .finetune }.count)
        XCTAssertEqual(b.tasks.filter { $0.kind == .heads }.count, 2 * a.tasks.filter { $0.kind == .heads }.count)
        // LIME explains repeat 0 only.
        XCTAssertEqual(b.tasks.filter { $0.kind == .explain }.count, a.tasks.filter { $0.kind == .explain }.count)
        // Every task of the single cross-validation is also in the repeated one (resumable, reusable).
        XCTAssertTrue(Set(a.tasks.map(\.id)).isSubset(of: Set(b.tasks.map(\.id))))
        XCTAssertEqual(Set(b.tasks.map(\.id)).count, b.tasks.count)
        let r1 = b.tasks.filter { $0.spec.shard?.repeat == 1 }
        XCTAssertFalse(r1.isEmpty)
        XCTAssertTrue(r1.allSatisfy { $0.label.contains("repeat2/") }, r1.map(\.label).joined(separator: ", "))
        // Repeat 0's shard encodes without a repeat key; repeat 1's with it.
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(ShardKey(dataset: "d", variant: .balanced, fold: 1)), as: UTF8.self).contains("repeat"))
        let k1 = ShardKey(dataset: "d", variant: .balanced, fold: 1, repeat: 1)
        XCTAssertEqual(try JSONDecoder().decode(ShardKey.self, from: JSONEncoder().encode(k1)), k1)
    }

    func testTaskSplitsFollowScikitLearnPerRepeat() throws {
        let c = try ConfigLoader.parse("preset: smoke\nrepeats: 3\n")
        let g = try Planner.plan(c, datasets: datasets())
        let expected = try StratifiedKFold(nSplits: 3, shuffle: true, seed: c.seed).repeatedTestFolds(labels: labels, repeats: 3)
        for t in g.tasks where t.kind == .finetune && t.spec.shard?.dataset == "multi-site" {
            let shard = t.spec.shard!
            XCTAssertEqual(t.spec.split?.rule, FoldSplits.seeded)
            let s = try FoldSplits.split(labels: labels, selection: try XCTUnwrap(t.spec.split), seed: t.spec.seed)
            XCTAssertEqual(s.test, expected[shard.repeat].indices.filter { expected[shard.repeat][$0] == shard.fold }, "\(shard)")
        }
        XCTAssertNotEqual(expected[0], expected[1])
    }

    func testUnshuffledAndFileRules() throws {
        let c = try ConfigLoader.parse("preset: smoke\nshuffle: false\n")
        XCTAssertFalse(c.shuffle)
        let g = try Planner.plan(c, datasets: datasets())
        let ft = try XCTUnwrap(g.tasks.first { $0.kind == .finetune && $0.spec.shard?.dataset == "multi-site" })
        XCTAssertEqual(ft.spec.split?.rule, FoldSplits.unshuffled)
        let plain = try StratifiedKFold(nSplits: 3, shuffle: false, seed: 0).testFolds(labels: labels).folds
        XCTAssertEqual(try FoldSplits.split(labels: labels, selection: try XCTUnwrap(ft.spec.split), seed: ft.spec.seed).test, plain.indices.filter { plain[$0] == ft.spec.shard!.fold })
        // A file assignment is used as given.
        let assignment = labels.indices.map { ($0 / 4) % 3 }
        XCTAssertEqual(try FoldSplits.testFolds(labels: labels, folds: 3, seed: 0, rule: FoldSplits.file, assignment: assignment), assignment)
    }

    func testConfigErrors() {
        func expect(_ yaml: String, _ text: String, line: UInt = #line) {
            XCTAssertThrowsError(try ConfigLoader.parse(yaml), line: line) { e in
                XCTAssertTrue("\(e)".contains(text), "\(e)", line: line)
            }
        }
        expect("preset: smoke\nrepeats: 0\n", "repeats")
        expect("preset: smoke\nrepeats: 2\nshuffle: false\n", "shuffle: false would repeat the same folds")
        expect("preset: smoke\nseed: 4294967296\n", "4294967295")
        expect("preset: smoke\ndatasets:\n  - {name: a, synthetic: multi-site, folds: f.csv}\n", "needs a `path:` dataset")
        expect("preset: smoke\nrepeats: 2\ndatasets:\n  - {name: a, path: /tmp/x, folds: f.csv}\n", "has a folds file")
    }
}

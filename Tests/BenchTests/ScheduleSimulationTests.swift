@testable import Bench
import Foundation
@testable import Pipeline
import SeafoldCore
import XCTest

/// Evidence for `seafold bench run`'s projection: list scheduling and the critical
/// path on small graphs computed by hand, and the per-task arithmetic of `RunProjection`.
final class ScheduleSimulationTests: XCTestCase {
    typealias Job = ScheduleSimulation.Job

    /// A(3) → B(2); C(4) and D(1) → E(2).
    let graph = [
        Job(id: "A", seconds: 3, sequence: 0), Job(id: "B", seconds: 2, dependencies: ["A"], sequence: 1),
        Job(id: "C", seconds: 4, sequence: 2), Job(id: "D", seconds: 1, sequence: 3),
        Job(id: "E", seconds: 2, dependencies: ["C", "D"], sequence: 4),
    ]

    func testLongestFirstOnTwoWorkers() throws {
        // t=0: ready A3 C4 D1 → C, A start. t=3: A ends; ready B2, D1 → B (3–5).
        // t=4: C ends; D (4–5). t=5: B, D end; E (5–7). Makespan 7.
        let o = try ScheduleSimulation.simulate(graph, workers: 2, policy: .longestFirst)
        XCTAssertEqual(o.makespan, 7)
        XCTAssertEqual(o.start, ["C": 0, "A": 0, "B": 3, "D": 4, "E": 5])
        XCTAssertEqual(o.totalSeconds, 12)
        XCTAssertEqual(o.criticalPath, 6)  // C + E
    }

    func testWorkerCountBounds() throws {
        // One worker: the sum. Three: every root starts at 0, E at 4, B at 3 → 6 = critical path.
        XCTAssertEqual(try ScheduleSimulation.simulate(graph, workers: 1, policy: .longestFirst).makespan, 12)
        let three = try ScheduleSimulation.simulate(graph, workers: 3, policy: .longestFirst)
        XCTAssertEqual(three.makespan, 6)
        XCTAssertEqual(three.start["E"], 4)
    }

    func testLongestFirstIsAHeuristicNotAnOptimum() throws {
        // 3, 3, 2, 2, 2 on two workers: LPT gives 3+2+2 = 7; the optimum is 6 (3+3 | 2+2+2).
        let jobs = [3.0, 3, 2, 2, 2].enumerated().map { Job(id: "j\($0.offset)", seconds: $0.element, sequence: $0.offset) }
        XCTAssertEqual(try ScheduleSimulation.simulate(jobs, workers: 2, policy: .longestFirst).makespan, 7)
    }

    func testPriorityPolicyFollowsPriorityThenSubmission() throws {
        // Priorities put D (1) and A (3) first on two workers: t=0 D, A; t=1 D ends → C (1–5);
        // t=3 A ends → B (3–5); t=5 E (5–7).
        var jobs = graph
        jobs[3].priority = 9; jobs[0].priority = 5
        let o = try ScheduleSimulation.simulate(jobs, workers: 2, policy: .priority)
        XCTAssertEqual(o.start, ["D": 0, "A": 0, "C": 1, "B": 3, "E": 5])
        XCTAssertEqual(o.makespan, 7)
    }

    func testBadGraphsAreRefused() {
        XCTAssertThrowsError(try ScheduleSimulation.simulate([Job(id: "x", seconds: 1, dependencies: ["y"])], workers: 2, policy: .priority))
        XCTAssertThrowsError(try ScheduleSimulation.criticalPath([Job(id: "x", seconds: 1, dependencies: ["y"]), Job(id: "y", seconds: 1, dependencies: ["x"])]))
        XCTAssertThrowsError(try ScheduleSimulation.simulate(graph, workers: 0, policy: .priority))
    }

    /// The smoke preset priced with round unit costs, checked against hand arithmetic.
    func testProjectionArithmeticOnTheSmokePreset() throws {
        let config = try ConfigLoader.parse(Presets.smoke)
        let datasets = try RunProjection.summaries(config)
        XCTAssertEqual(datasets.map(\.labels.count), [24, 64])
        let graph = try Planner.plan(config, datasets: datasets)
        let costs = RunProjection.UnitCosts(threads: 1, trainStepSeconds: 2, pretrainStepSeconds: 10, pretrainImageSeconds: 0,
                                            inferenceImageSeconds: 0.5, linearHeadSampleEpochSeconds: 0.01, limeExplainSeconds: 3,
                                            limeSegmentationSeconds: 1, limeSegments: 9, divergenceSeconds: 7,
                                            headSeconds: ["multi-site/svm": 4, "multi-site/knn": 1, "multi-site/fc": 2])
        let tasks = try RunProjection.project(config, graph: graph, datasets: datasets, costs: costs)
        func seconds(_ label: String) throws -> Double { try XCTUnwrap(tasks.first { $0.label == label }, label).seconds }
        // Pretrain: 8 classes × 12 images = 96, batch 16 → 6 steps × 2 epochs = 12 steps × 10 s.
        XCTAssertEqual(try seconds("pretrain (synthetic)"), 120)
        // multi-site (24 images, 4 classes of 6): 16 train, 8 test per fold.
        // Fine-tune: 3 epochs × ⌈16/6⌉ = 9 steps × 2 s + (16 + 2·8) images × 0.5 s = 34 s.
        XCTAssertEqual(try seconds("finetune multi-site/imbalanced/fold1"), 34, accuracy: 1e-9)
        // Baseline: (16 + 8) × 0.5 + 3 epochs × 16 × 0.01 = 12.48 s.
        XCTAssertEqual(try seconds("baseline multi-site/imbalanced/fold1"), 12.48, accuracy: 1e-9)
        XCTAssertEqual(try seconds("divergence multi-site/imbalanced/fold1"), 7)
        XCTAssertEqual(try seconds("svm on \(ModelKind.ft.rawValue) multi-site/imbalanced/fold1"), 4)
        // Explain (fold 0): 1 image per class × 4 classes, each segmentation 1 s + 2 models ×
        // ((1 + stability 1 + 1) = 3 explanations × 3 s + 10 deletion images × 0.5 s) = 1 + 2 × 14 = 29 → 116 s.
        XCTAssertEqual(try seconds("explain multi-site/imbalanced/fold1"), 116, accuracy: 1e-9)
        // Schedules of the real graph: one worker takes the sum; many take the critical path.
        let jobs = RunProjection.jobs(tasks)
        let total = tasks.reduce(0) { $0 + $1.seconds }
        XCTAssertEqual(try ScheduleSimulation.simulate(jobs, workers: 1, policy: .priority).makespan, total, accuracy: 1e-6)
        let wide = try ScheduleSimulation.simulate(jobs, workers: jobs.count, policy: .longestFirst)
        XCTAssertEqual(wide.makespan, wide.criticalPath, accuracy: 1e-6)
        // Critical path of smoke: pretrain, then the longest fine-tune, then its explain (needs the baseline too).
        XCTAssertGreaterThan(wide.criticalPath, 120 + 34)
    }
}

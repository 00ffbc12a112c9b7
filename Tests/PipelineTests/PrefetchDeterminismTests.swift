import Datasets
import Engine
import Foundation
@testable import Pipeline
import SeafoldCore
import XCTest

/// Issue 9: the prefetch thread changes when batches are assembled, never what they are. The
/// training feed (sampler orders, batches, the sampler RNG state at each epoch end) is the same
/// item for item with and without prefetching; a whole training loop ends with the same weights
/// and curve; and the tasks of a run give byte-identical result JSON.
final class PrefetchDeterminismTests: XCTestCase {
    private func pack(count: Int = 22, size: Int = 63, seed: UInt64 = 3) -> PackData {
        var rng = SeededGenerator(seed: seed)
        let labels = (0..<count).map { $0 % 5 == 4 ? 1 : $0 % 3 }  // imbalanced
        let meta = PackMeta(name: "t", classes: ["a", "b", "c"], labels: labels, files: [], inputSize: size, channels: 1,
                            scaling: "none", warnings: [], hasMasks: false)
        return PackData(meta: meta, channels: 1, size: size, pixels: (0..<(count * size * size)).map { _ in UInt16(truncatingIfNeeded: rng.next()) })
    }

    private enum Seen: Equatable { case batch([Float], [Int]); case end([UInt64]) }

    private func feed(depth: Int, seed: UInt64 = 9) throws -> [Seen] {
        let data = pack()
        var sampler = BalancedSampler(labels: data.labels)
        let produce = NetworkTraining.producer(epochs: 0..<3, batchSize: 6, rng: SeededGenerator.derive(seed: seed, "sampler"),
                                               order: { sampler.epoch(rng: &$0) }, batch: { (data.batch($0), $0.map { data.labels[$0] }) })
        let p = Prefetcher(depth: depth, produce: produce)
        var out: [Seen] = []
        while let item = try p.next() {
            switch item {
            case let .batch(x, y): out.append(.batch(x.scalars, y))
            case let .epochEnd(rng): out.append(.end(rng.state))
            }
        }
        return out
    }

    func testBatchSequenceIsIdenticalWithAndWithoutPrefetch() throws {
        let reference = try feed(depth: 0)
        // 3 epochs × (⌈22 / 6⌉ = 4 batches + the epoch's end).
        XCTAssertEqual(reference.count, 15)
        XCTAssertEqual(reference.filter { if case .end = $0 { return true } else { return false } }.count, 3)
        for depth in [1, 2, 4] { XCTAssertEqual(try feed(depth: depth), reference, "depth \(depth)") }
        XCTAssertNotEqual(try feed(depth: 2, seed: 10), reference, "another sampler seed gives other batches (the check can fail)")
    }

    private func train(depth: Int) throws -> (state: [String: [Float]], curve: [EpochStats], chunks: [[Int]], steps: Int) {
        let data = pack()
        let model = try AlexNet(config: AlexNetConfig(numClasses: 3, widthMultiplier: 0.125, inputSize: 63, hiddenWidth: 32), seed: 5)
        let adam = Adam(lr: 1e-3)
        var loop = NetworkTraining(model: model, trainer: try Trainer(model: model, optimizer: adam), optimizer: adam, epochs: 3, batchSize: 6,
                                   checkpointEvery: 0, samplerRNG: SeededGenerator.derive(seed: 1, "sampler"),
                                   dropoutRNG: SeededGenerator.derive(seed: 1, "dropout"))
        loop.prefetchDepth = depth
        var steps = 0
        loop.observer = { if case .stepped = $0 { steps += 1 } }
        var sampler = BalancedSampler(labels: data.labels)
        var chunks: [[Int]] = []
        let dir = try temporaryDirectory(self, "loop")
        let io = try TestIO(inputs: [:], directory: dir)
        try loop.run(io: io, label: "t", order: { sampler.epoch(rng: &$0) }, batch: { chunk in
            chunks.append(chunk)
            return (data.batch(chunk), chunk.map { data.labels[$0] })
        })
        return (model.stateDict().mapValues(\.scalars), loop.curve, chunks, steps)
    }

    func testTrainingLoopEndsWithIdenticalWeightsAndCurve() throws {
        let a = try train(depth: 0), b = try train(depth: 2)
        XCTAssertEqual(a.chunks, b.chunks)
        XCTAssertEqual(a.chunks.count, 12)
        XCTAssertEqual(a.curve, b.curve)
        XCTAssertEqual(a.state, b.state)
        XCTAssertEqual(a.steps, 12)
        XCTAssertEqual(b.steps, 12)
    }

    /// Pretrain, fine-tune and baseline of fold 0 (every batch and feature loop) run once with
    /// the prefetch thread and once without: the same result bytes and weights.
    func testTaskResultsAreByteIdenticalWithAndWithoutPrefetch() throws {
        let saved = DataPrefetch.depth
        defer { DataPrefetch.depth = saved }
        let yaml = Tiny.yaml(pretrained: "synthetic", variant: "balanced", epochs: 2, headEpochs: 2)
        var runs: [[CompletedTask]] = []
        for depth in [0, 2] {
            DataPrefetch.depth = depth
            let ws = try Workspace(self, yaml: yaml)
            let tasks = ws.graph.tasks.filter { [.pretrain, .finetune, .baseline].contains($0.kind) && ($0.kind == .pretrain || $0.spec.shard?.fold == 0) }
            let (done, missing) = ws.executor.run(TaskGraph(tasks: tasks))
            XCTAssertTrue(missing.isEmpty, "\(missing.map(\.reason))")
            runs.append(done)
        }
        XCTAssertEqual(runs[0].count, 3)
        for (x, y) in zip(runs[0], runs[1]) {
            XCTAssertEqual(x.task.id, y.task.id)
            XCTAssertEqual(x.result, y.result, x.task.label)
            for name in ["weights.safetensors", "features_train.npy", "features_test.npy"] where x.artifacts[name] != nil {
                XCTAssertEqual(try fileBytes(x.artifacts[name]), try fileBytes(y.artifacts[name]), "\(x.task.label) \(name)")
            }
        }
    }
}

import Datasets
import Engine
import Foundation
@testable import Pipeline
import SeafoldCore
import TestSupport
import XCTest

/// The disk model against sizes computed by hand from the layer shapes, and against a real
/// checkpoint file.
final class DiskBudgetTests: XCTestCase {
    // Parameters by hand (conv: out·in·k² + out; linear: out·in + out; flatten = conv5 · 36).
    // Full AlexNet: convs 23,296 + 307,392 + 663,936 + 884,992 + 590,080 = 2,469,696;
    // classifier.1 9216→4096: 37,752,832; classifier.4: 16,781,312.
    static let fullBody = 2_469_696 + 37_752_832 + 16_781_312
    // smoke (width 0.125: 8, 24, 48, 32, 32; hidden 64): convs 2,912 + 4,824 + 10,416 + 13,856 +
    // 9,248 = 41,256; classifier.1 1152→64: 73,792; classifier.4: 4,160.
    static let smokeBody = 41_256 + 73_792 + 4_160
    // demo (width 0.25: 16, 48, 96, 64, 64; hidden 512): convs 5,824 + 19,248 + 41,568 + 55,360 +
    // 36,928 = 158,928; classifier.1 2304→512: 1,180,160; classifier.4: 262,656.
    static let demoBody = 158_928 + 1_180_160 + 262_656

    func config(_ preset: String) throws -> ExperimentConfig { try ConfigLoader.parse(Presets.yaml(preset)!, baseDirectory: nil) }

    func testParameterCountsMatchTheLayerShapes() throws {
        var full = ModelConfig()
        full.widthMultiplier = 1; full.inputSize = 224; full.hiddenWidth = 4096
        XCTAssertEqual(DiskBudget.parameterCount(full, classes: 1000), 61_100_840)
        XCTAssertEqual(DiskBudget.parameterCount(full, classes: 4), Self.fullBody + 4096 * 4 + 4)
        XCTAssertEqual(DiskBudget.parameterCount(full, classes: 4), 57_020_228)
        XCTAssertEqual(DiskBudget.parameterCount(try config("smoke").model, classes: 4), Self.smokeBody + 64 * 4 + 4)
        XCTAssertEqual(DiskBudget.parameterCount(try config("smoke").model, classes: 4), 119_468)
        XCTAssertEqual(DiskBudget.parameterCount(try config("demo").model, classes: 4), Self.demoBody + 512 * 4 + 4)
        // The shapes are the network's own.
        let smoke = try config("smoke").model
        let net = try AlexNet(config: AlexNetConfig(smoke, numClasses: 4), seed: 1)
        XCTAssertEqual(DiskBudget.stateShapes(smoke, classes: 4), net.stateDict().mapValues(\.shape))
        // A weights file is exactly what Safetensors writes.
        let url = try makeTemporaryDirectory("disk").appendingPathComponent("w.safetensors")
        let meta = ["task": "finetune", "shard": "a/balanced/fold1"]
        try Safetensors.write(net.stateDict(), metadata: meta, to: url)
        XCTAssertEqual(DiskBudget.fileBytes(url), Int64(Safetensors.fileSize(shapes: DiskBudget.stateShapes(smoke, classes: 4), metadata: meta)))
    }

    /// A checkpoint written by the training loop (weights, Adam's moments, RNG states, curve)
    /// against the formula.
    func testCheckpointFormulaMatchesARealCheckpoint() throws {
        let smoke = try config("smoke").model
        let model = try AlexNet(config: AlexNetConfig(smoke, numClasses: 4), seed: 3)
        let adam = Adam(lr: 1e-3)
        let trainer = try Trainer(model: model, optimizer: adam, trainable: nil)
        var rng = SeededGenerator(seed: 5)
        let s = smoke.inputSize
        _ = try trainer.step(input: Tensor(shape: [2, 3, s, s], data: (0..<(2 * 3 * s * s)).map { Float($0 % 7) / 7 }), labels: [0, 1], rng: &rng)
        var loop = NetworkTraining(model: model, trainer: trainer, optimizer: adam, epochs: 3, batchSize: 2, checkpointEvery: 1,
                                   samplerRNG: SeededGenerator.derive(seed: 9, "sampler"), dropoutRNG: SeededGenerator.derive(seed: 9, "dropout"))
        loop.curve = [EpochStats(epoch: 1, loss: 1.3862943649291992, accuracy: 0.25), EpochStats(epoch: 2, loss: 1.2012345678901234, accuracy: 0.5)]
        let dir = try makeTemporaryDirectory("disk-ckpt").appendingPathComponent("io")
        let io = try TestIO(inputs: [:], directory: dir)
        try loop.saveCheckpoint(io: io)
        let real = DiskBudget.fileBytes(io.checkpointURL)
        let model3 = DiskBudget.checkpointSize(smoke, classes: 4, optimizer: .adam, epochs: 2)
        // Weights and two moments in float32, a one-float step count per tensor (16 tensors).
        let data = Int64(119_468 * 3 * 4 + 16 * 4)
        XCTAssertGreaterThan(real, data)
        XCTAssertLessThan(real - data, 8192, "header")
        XCTAssertLessThanOrEqual(abs(real - model3), 160, "model \(model3) vs real \(real)")
        // Only the newest scratch copy stays.
        loop.curve.append(EpochStats(epoch: 3, loss: 1, accuracy: 1))
        try loop.saveCheckpoint(io: io)
        let scratch = try FileManager.default.contentsOfDirectory(atPath: io.scratchDirectory.path).filter { $0.hasPrefix("checkpoint-") }
        XCTAssertEqual(scratch, ["checkpoint-3.safetensors"])

        // The paper's: 57,020,228 parameters × 3 × 4 bytes + 16 step counts, plus the header.
        var full = ModelConfig()
        full.hiddenWidth = 4096
        let paper = DiskBudget.checkpointSize(full, classes: 4, optimizer: .adam, epochs: 95)
        XCTAssertGreaterThan(paper, 684_242_800)
        XCTAssertLessThan(paper, 684_242_800 + 16_384)
    }

    /// Labels like the synthetic generator's (round robin over four classes).
    func summaries(_ config: ExperimentConfig) -> [DatasetSummary] {
        config.datasets.map { d in
            let n = d.count ?? (d.synthetic == "multi-site" ? 118 : 2962)
            return DatasetSummary(name: d.name, classes: SyntheticSAS.classes, labels: (0..<n).map { $0 % 4 }, hash: d.name)
        }
    }

    func estimate(_ preset: String, workers: Int?) throws -> (DiskBudget, ExperimentConfig) {
        let c = try config(preset)
        let ds = summaries(c)
        let graph = try Planner.plan(c, datasets: ds)
        return (DiskBudget.estimate(config: c, graph: graph, datasets: ds, workers: workers), c)
    }

    func item(_ b: DiskBudget, _ name: String) throws -> DiskBudget.Item { try XCTUnwrap(b.items.first { $0.name == name }, name) }

    func testSmokeEstimateMatchesHandComputedSizes() throws {
        let (b, _) = try estimate("smoke", workers: 2)
        // 9 shards: multi-site (24 images) × 3 folds, single-site (64 images) × 2 variants × 3 folds.
        let ft = try item(b, "fine-tune weights")
        XCTAssertEqual(ft.count, 9)
        XCTAssertGreaterThan(ft.bytes, 9 * 119_468 * 4)
        XCTAssertLessThan(ft.bytes, 9 * (119_468 * 4 + 4096))
        // Features: every image once per shard (train + test), 64 floats, a 128-byte .npy header per file.
        let features = try item(b, "fine-tune features")
        XCTAssertEqual(features.count, 18)
        let featureRows: Int64 = 3 * 24 + 6 * 64
        XCTAssertEqual(features.bytes, featureRows * 256 + 18 * 128)
        // Baseline features are the same bytes for both variants of a fold: 6 folds × 2 files.
        let base = try item(b, "baseline features")
        XCTAssertEqual(base.count, 12)
        let baseRows: Int64 = 3 * 24 + 3 * 64
        XCTAssertEqual(base.bytes, baseRows * 256 + 12 * 128)
        // Packs: uint16 [N, 1, 63, 63] + uint8 masks [N, 63, 63] (+ 128-byte headers), estimated meta.
        let copies = try item(b, "dataset pack copies in the store")
        let pixels: Int64 = 88 * 63 * 63
        let packBytes: Int64 = pixels * 3 + 4 * 128 + 2 * 512 + 88 * 40
        XCTAssertEqual(copies.bytes, packBytes)
        // Checkpoints: epochs 3, every epoch: the last one after epoch 2.
        XCTAssertEqual(b.checkpointBytes, DiskBudget.checkpointSize(try config("smoke").model, classes: 4, optimizer: .adam, epochs: 2))
        XCTAssertEqual(b.checkpointsWrittenBytes, 9 * 2 * b.checkpointBytes)
        XCTAssertEqual(b.concurrentCheckpoints, 2)
        XCTAssertEqual(b.peakBytes, b.finalBytes + 2 * 2 * b.checkpointBytes)
        XCTAssertEqual(b.budgetBytes, b.finalBytes * 3 / 2)
        XCTAssertEqual(b.finalBytes, b.items.reduce(0) { $0 + $1.bytes })
        XCTAssertTrue(b.summary.contains("9 fine-tune weights"), b.summary)
    }

    func testPaperEstimateMatchesHandComputedSizes() throws {
        let (b, _) = try estimate("paper", workers: nil)
        let mb = Int64(1_000_000)
        // Fine-tune weights: 57,020,228 × 4 = 228,080,912 bytes each.
        let ft = try item(b, "fine-tune weights")
        XCTAssertEqual(ft.count, 9)
        XCTAssertEqual(ft.bytes / 9 / mb, 228)
        // Pretrained on the synthetic source task: min(32, 24 kinds) = 24 outputs.
        let pretrainedParameters = Int64(Self.fullBody) + 4096 * 24 + 24
        XCTAssertEqual(try item(b, "pretrained weights").bytes / mb, pretrainedParameters * 4 / mb)
        // Features: 3 × 118 + 6 × 2962 rows of 4096 floats.
        let rows: Int64 = 3 * 118 + 6 * 2962
        XCTAssertEqual(try item(b, "fine-tune features").bytes, rows * 16_384 + 18 * 128)
        // Packs at 224 px: 3,080 images × 224² × (2 + 1) bytes.
        let packPixels: Int64 = 3080 * 224 * 224
        XCTAssertEqual(try item(b, "dataset pack copies in the store").bytes / mb, packPixels * 3 / mb)
        // A checkpoint is weights + two Adam moments: 684 MB.
        XCTAssertEqual(b.checkpointBytes / mb, 684)
        // 19 checkpoints per fine-tune (every 5 of 100 epochs, none after the last): 117 GB kept
        // if nothing were deleted.
        XCTAssertEqual(b.checkpointsWrittenBytes / (1000 * mb), 117)  // 171 × 684.2 MB
        // Default workers: one per fine-tune, each with a checkpoint and its in-flight copy.
        XCTAssertEqual(b.workers, 9)
        XCTAssertEqual(b.peakBytes, b.finalBytes + 9 * 2 * b.checkpointBytes)
        // The final size is dominated by weights, features and packs: 3.5–4 GB.
        XCTAssertGreaterThan(b.finalBytes, 3_500 * mb)
        XCTAssertLessThan(b.finalBytes, 4_000 * mb)
        XCTAssertEqual(b.budgetBytes, b.finalBytes * 3 / 2)
        // A fine-tune's working set: pack + pretrained weights + 3 checkpoints + its outputs.
        XCTAssertGreaterThan(b.workerCacheBytes, 3 * 684 * mb + 228 * mb)
        XCTAssertTrue(b.workerCacheTask.hasPrefix("finetune single-site"), b.workerCacheTask)
        let two = try estimate("paper", workers: 2).0
        XCTAssertEqual(two.peakBytes, b.finalBytes + 2 * 2 * b.checkpointBytes)
    }

    func testPreflightNamesThePathAndTheWaysOut() throws {
        let dir = try makeTemporaryDirectory("disk-pre")
        // A real file system has more than a byte free.
        XCTAssertNoThrow(try DiskBudget.preflight(runDirectory: dir, needBytes: 1))
        XCTAssertGreaterThan(try DiskBudget.availableBytes(at: dir), 0)
        XCTAssertThrowsError(try DiskBudget.preflight(runDirectory: dir, needBytes: 5_000_000, available: 1_000_000)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains(dir.path), text)
            XCTAssertTrue(text.contains("5.00 MB") && text.contains("1.00 MB available"), text)
            XCTAssertTrue(text.contains("--run-dir") && text.contains("checkpoint_every: 0") && text.contains("--workers"), text)
        }
        // What the run directory already holds counts as written.
        try Data(count: 4_000_000).write(to: dir.appendingPathComponent("x"))
        XCTAssertNoThrow(try DiskBudget.preflight(runDirectory: dir, needBytes: 5_000_000, available: 1_000_000))
        XCTAssertEqual(DiskBudget.format(684_242_800), "684 MB")
        XCTAssertEqual(DiskBudget.format(228_080_912), "228 MB")
        XCTAssertEqual(DiskBudget.format(5_432_100), "5.43 MB")
    }
}

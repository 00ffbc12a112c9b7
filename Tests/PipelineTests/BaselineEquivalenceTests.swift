import Classifiers
import Engine
import Foundation
@testable import Pipeline
import SeafoldCore
import TestSupport
import XCTest

/// The baseline trained on cached features (BaselineTask + LinearHead) equals the naive loop —
/// the whole AlexNet run forward on every batch with only classifier.6 trainable
/// (`Trainer(trainable:)`), Adam — given the same initial output layer, the same sample order
/// (the sampler on the same seeded stream) and the same dropout:
/// - `base_dropout: true` (the default, PyTorch's `model.train()` with frozen lower layers):
///   the naive loop runs with dropout 0.5 on the stream "base-dropout/<shard>";
/// - `base_dropout: false`: the frozen layers in eval mode; the naive loop with dropout 0.
/// Each setting also differs from the naive loop of the other, so the option matters.
final class BaselineEquivalenceTests: XCTestCase {
    func testCachedFeatureBaselineEqualsNaiveLoop() throws {
        let ws = try Workspace(self, yaml: Tiny.yaml(variant: "balanced, imbalanced", hidden: 48, lr: 0.001, epochs: 5))
        for (variant, baseDropout) in [(SamplingVariant.balanced, true), (.imbalanced, true), (.balanced, false), (.imbalanced, false)] {
            var task = try ws.task(.baseline, variant: variant)
            XCTAssertEqual(task.spec.network?.training.baseDropout, true, "dropout on is the default")
            task.spec.network?.training.baseDropout = baseDropout
            try ws.runDependencies(of: task)
            let io = try ws.io(for: task, self)
            let out = try TaskRunner.run(spec: task.spec, io: io)
            let trained = try Safetensors.read(from: try XCTUnwrap(out.artifacts["output_layer.safetensors"])).tensors
            let result = try JSONDecoder().decode(NetworkResult.self, from: out.result)
            let shard = try XCTUnwrap(task.spec.shard)

            let dropout = baseDropout ? 0.5 : 0
            let naive = try naiveBaseline(task, io: io, dropout: dropout,
                                          dropoutRNG: SeededGenerator.derive(seed: task.spec.seed, "base-dropout/\(shard)"))
            let label = "\(variant), base_dropout \(baseDropout)"
            let w = try XCTUnwrap(trained["classifier.6.weight"]), b = try XCTUnwrap(trained["classifier.6.bias"])
            XCTAssertEqual(w.shape, naive.weight.shape)
            XCTAssertEqual(b.shape, naive.bias.shape)
            let dw = maxAbsDifference(w.scalars, naive.weight.scalars), db = maxAbsDifference(b.scalars, naive.bias.scalars)
            XCTAssertLessThan(dw, 1e-5, "\(label): max |Δweight| between cached-feature and naive baselines")
            XCTAssertLessThan(db, 1e-5, "\(label): max |Δbias| between cached-feature and naive baselines")

            // Same per-epoch training loss and accuracy (loss before each update, as both report it).
            XCTAssertEqual(result.curve.epochs.count, naive.curve.count)
            for (e, n) in zip(result.curve.epochs, naive.curve) {
                XCTAssertEqual(e.epoch, n.epoch)
                XCTAssertEqual(e.loss, n.loss, accuracy: 1e-5 * max(1, abs(n.loss)), "\(label) epoch \(e.epoch) loss")
                XCTAssertEqual(e.accuracy, n.accuracy, "\(label) epoch \(e.epoch) accuracy")
            }

            // Not trivially equal: training moved the layer far beyond the tolerance.
            XCTAssertGreaterThan(maxAbsDifference(w.scalars, naive.initialWeight), 1e-3, "\(label): the output layer was trained")

            // The other dropout setting trains on other features and ends elsewhere.
            if variant == .balanced {
                let other = try naiveBaseline(task, io: io, dropout: 0.5 - dropout, dropoutRNG: SeededGenerator(seed: 5))
                XCTAssertGreaterThan(maxAbsDifference(w.scalars, other.weight.scalars), 1e-4,
                                     "\(label): the naive loop with dropout \(0.5 - dropout) is expected to differ")
            }
        }
    }

    /// FT and Base of one shard start from the same output layer: with a learning rate so small
    /// that training cannot move it (Adam's step is about lr), both end where they started.
    func testFineTuneAndBaseStartFromTheSameOutputLayer() throws {
        let ws = try Workspace(self, yaml: Tiny.yaml(hidden: 48, lr: 1e-12, epochs: 1, checkpointEvery: 0))
        var layers: [[Float]] = []
        for kind in [TaskKind.finetune, .baseline] {
            let task = try ws.task(kind)
            try ws.runDependencies(of: task)
            let out = try TaskRunner.run(spec: task.spec, io: try ws.io(for: task, self))
            let name = kind == .finetune ? "weights.safetensors" : "output_layer.safetensors"
            let t = try Safetensors.read(from: try XCTUnwrap(out.artifacts[name])).tensors
            layers.append(try XCTUnwrap(t["classifier.6.weight"]).scalars)
        }
        XCTAssertEqual(layers[0].count, layers[1].count)
        XCTAssertLessThan(maxAbsDifference(layers[0], layers[1]), 1e-8, "FT and Base start from one output layer")
        // Not vacuous: a fresh layer's weights are of order 1/√48.
        XCTAssertGreaterThan(layers[0].map(abs).max() ?? 0, 0.05)
    }

    /// The naive loop, reproducing BaselineTask's order and initialisation: the same network
    /// builder (pretrained body, the shard's output-layer seed), the same fold split,
    /// the variant's sampler on the stream "sampler/<shard>", consecutive batches of the epoch's
    /// order (last one partial), Adam with the configured lr and weight decay.
    private func naiveBaseline(_ task: PlannedTask, io: TaskIO, dropout: Double, dropoutRNG: SeededGenerator)
        throws -> (weight: Tensor, bias: Tensor, initialWeight: [Float], curve: [EpochStats]) {
        var spec = try XCTUnwrap(task.spec.network)
        let shard = spec.shard, training = spec.training
        spec.network.dropout = dropout
        let pack = try PackData(io: io)
        let (trainIdx, _) = try pack.split(spec.split, seed: spec.seed)
        let labels = trainIdx.map { pack.labels[$0] }
        let model = try TaskSupport.networkFromPretrained(spec.network, seed: spec.seed, classes: pack.classes.count, io: io,
                                                          seedLabel: TaskSupport.outputLayerSeedLabel(shard))
        XCTAssertEqual(model.config.dropout, Float(dropout))
        let initialWeight = try XCTUnwrap(model.stateDict()["classifier.6.weight"]).scalars
        let adam = Adam(lr: Float(training.lr), weightDecay: Float(training.weightDecay))
        let trainer = try Trainer(model: model, optimizer: adam, trainable: ["classifier.6.weight", "classifier.6.bias"])
        var sampler = TaskSupport.sampler(variant: shard.variant, labels: labels)
        var samplerRNG = SeededGenerator.derive(seed: spec.seed, "sampler/\(shard)")
        var dropoutRNG = dropoutRNG
        var curve: [EpochStats] = []
        for epoch in 0..<training.epochs {
            let order = sampler.epoch(rng: &samplerRNG)
            var lossSum = 0.0, correct = 0
            var start = 0
            while start < order.count {
                let chunk = Array(order[start..<min(start + training.batchSize, order.count)])
                let r = try trainer.step(input: pack.batch(chunk.map { trainIdx[$0] }), labels: chunk.map { labels[$0] }, rng: &dropoutRNG)
                lossSum += Double(r.loss) * Double(chunk.count)
                correct += r.correct
                start += training.batchSize
            }
            curve.append(EpochStats(epoch: epoch + 1, loss: lossSum / Double(order.count), accuracy: Double(correct) / Double(order.count)))
        }
        // The frozen layers did not move.
        let pre = try Safetensors.read(from: try io.input("pretrained")).tensors
        let state = model.stateDict()
        for key in ["features.0.weight", "features.10.bias", "classifier.1.weight", "classifier.4.bias"] {
            XCTAssertEqual(state[key], pre[key], "\(key) is frozen")
        }
        return (try XCTUnwrap(state["classifier.6.weight"]), try XCTUnwrap(state["classifier.6.bias"]), initialWeight, curve)
    }
}

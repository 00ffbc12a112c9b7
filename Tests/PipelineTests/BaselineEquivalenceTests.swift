import Classifiers
import Engine
import Foundation
@testable import Pipeline
import SeafoldCore
import XCTest

/// Issue 4, Evidence: the baseline trained on cached penultimate features (BaselineTask +
/// LinearHead) equals the naive loop — the whole AlexNet run forward on every batch with only
/// classifier.6 trainable (`Trainer(trainable:)`), Adam — given the same initial output layer,
/// the same sample order (the sampler on the same seeded stream) and frozen layers that behave
/// as in eval mode. The naive loop uses dropout 0, so its training-mode forward *is* the
/// eval-mode forward the cached features come from.
///
/// The semantics this pins down: the frozen layers are in eval mode. A naive PyTorch loop that
/// calls `model.train()` with the lower layers merely frozen (requires_grad False) keeps
/// dropout active in classifier.0 and classifier.3 and so trains on different, noisy features;
/// the last part of the test shows that such a loop (dropout 0.5) does *not* match.
final class BaselineEquivalenceTests: XCTestCase {
    func testCachedFeatureBaselineEqualsNaiveLoop() throws {
        let ws = try Workspace(self, yaml: Tiny.yaml(variant: "balanced, imbalanced", hidden: 48, lr: 0.001, epochs: 5))
        for variant in ["balanced", "imbalanced"] {
            let task = try ws.task(.baseline, variant: variant)
            try ws.runDependencies(of: task)
            let io = try ws.io(for: task, self)
            let out = try TaskRunner.run(spec: task.spec, io: io)
            let trained = try Safetensors.read(from: try XCTUnwrap(out.artifacts["output_layer.safetensors"])).tensors
            let result = try JSONDecoder().decode(NetworkResult.self, from: out.result)

            let naive = try naiveBaseline(task, io: io, dropout: 0)
            let w = try XCTUnwrap(trained["classifier.6.weight"]), b = try XCTUnwrap(trained["classifier.6.bias"])
            XCTAssertEqual(w.shape, naive.weight.shape)
            XCTAssertEqual(b.shape, naive.bias.shape)
            let dw = maxAbsDifference(w.scalars, naive.weight.scalars), db = maxAbsDifference(b.scalars, naive.bias.scalars)
            XCTAssertLessThan(dw, 1e-5, "\(variant): max |Δweight| between cached-feature and naive baselines")
            XCTAssertLessThan(db, 1e-5, "\(variant): max |Δbias| between cached-feature and naive baselines")

            // Same per-epoch training loss and accuracy (loss before each update, as both report it).
            XCTAssertEqual(result.curve.epochs.count, naive.curve.count)
            for (e, n) in zip(result.curve.epochs, naive.curve) {
                XCTAssertEqual(e.loss, n.loss, accuracy: 1e-5 * max(1, abs(n.loss)), "\(variant) epoch \(e.epoch) loss")
                XCTAssertEqual(e.accuracy, n.accuracy, "\(variant) epoch \(e.epoch) accuracy")
            }

            // Not trivially equal: training moved the layer far beyond the tolerance.
            XCTAssertGreaterThan(maxAbsDifference(w.scalars, naive.initialWeight), 1e-3, "\(variant): the output layer was trained")

            // With dropout active in the frozen layers (PyTorch's model.train() + frozen layers)
            // the naive loop trains on other features and ends elsewhere.
            if variant == "balanced" {
                let noisy = try naiveBaseline(task, io: io, dropout: 0.5)
                XCTAssertGreaterThan(maxAbsDifference(w.scalars, noisy.weight.scalars), 1e-4,
                                     "a training-mode (dropout 0.5) naive loop is expected to differ")
            }
        }
    }

    /// The naive loop, reproducing BaselineTask's order and initialisation: the same network
    /// builder (pretrained body, output layer seeded from "<shard>/base"), the same fold split,
    /// the variant's sampler on the stream "sampler/<shard>", consecutive batches of the epoch's
    /// order (last one partial), Adam with the configured lr and weight decay.
    private func naiveBaseline(_ task: PlannedTask, io: TaskIO, dropout: Double)
        throws -> (weight: Tensor, bias: Tensor, initialWeight: [Float], curve: [EpochStats]) {
        let shard = try XCTUnwrap(task.spec.shard), training = try XCTUnwrap(task.spec.training)
        var spec = task.spec
        spec.network?.dropout = dropout
        let pack = try PackData(io: io)
        let (trainIdx, _) = try pack.split(spec: spec, shard: shard)
        let labels = trainIdx.map { pack.labels[$0] }
        let model = try TaskSupport.networkFromPretrained(spec, classes: pack.classes.count, io: io, seedLabel: "\(shard)/base")
        XCTAssertEqual(model.config.dropout, Float(dropout))
        let initialWeight = try XCTUnwrap(model.stateDict()["classifier.6.weight"]).scalars
        let adam = Adam(lr: Float(training.lr), weightDecay: Float(training.weightDecay))
        let trainer = try Trainer(model: model, optimizer: adam, trainable: ["classifier.6.weight", "classifier.6.bias"])
        var sampler = try TaskSupport.sampler(variant: shard.variant, labels: labels)
        var samplerRNG = SeededGenerator.derive(seed: spec.seed, "sampler/\(shard)")
        var dropoutRNG = SeededGenerator(seed: 5)
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

    private func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
        XCTAssertEqual(a.count, b.count)
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }
}

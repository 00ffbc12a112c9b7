import Classifiers
import Datasets
import Engine
import Foundation
import SeafoldCore

/// `baseline(dataset, variant, fold)`: only the output layer is trained; every other layer stays
/// at the pretrained weights (paper §3.1). The frozen layers run in eval mode, so the
/// penultimate features never change: they are computed once and the output layer is trained
/// on the cached features — the same result as the naive loop (PipelineTests shows it), at a
/// tiny fraction of the cost.
enum BaselineTask {
    static func run(_ spec: TaskSpec, io: TaskIO) throws -> TaskOutput {
        let shard = try TaskSupport.require(spec.shard, "shard", .baseline)
        let training = try TaskSupport.require(spec.training, "training", .baseline)
        let pack = try PackData(io: io)
        let (trainIdx, testIdx) = try pack.split(folds: spec.folds ?? 3, fold: shard.fold, seed: spec.seed)
        let trainLabels = trainIdx.map { pack.labels[$0] }
        let testLabels = testIdx.map { pack.labels[$0] }
        let model = try TaskSupport.networkFromPretrained(spec, classes: pack.classes.count, io: io, seedLabel: "\(shard)/base")
        io.progress(0, "baseline \(shard): computing frozen features")
        let fTrain = try TaskSupport.features(model, pack: pack, indices: trainIdx)
        let fTest = try TaskSupport.features(model, pack: pack, indices: testIdx)

        let state = model.stateDict()
        guard let w = state["classifier.6.weight"], let b = state["classifier.6.bias"] else {
            throw SeafoldError.message("the model has no classifier.6 output layer")
        }
        var cfg = LinearHead.Config()
        cfg.learningRate = Float(training.lr)
        cfg.weightDecay = Float(training.weightDecay)
        cfg.batchSize = training.batchSize
        cfg.epochs = training.epochs
        let head = try LinearHead(weight: w.scalars, bias: b.scalars, inputDim: fTrain.cols, config: cfg)
        var sampler = try TaskSupport.sampler(variant: shard.variant, labels: trainLabels)
        var rng = SeededGenerator.derive(seed: spec.seed, "sampler/\(shard)")
        io.progress(0.5, "baseline \(shard): training the output layer for \(training.epochs) epochs on cached features")
        let epochs = try head.train(fTrain, labels: trainLabels, epochOrder: { _ in sampler.epoch(rng: &rng) })
        let predictions = try head.predict(fTest)

        let layerURL = io.scratchDirectory.appendingPathComponent("output_layer.safetensors")
        try Safetensors.write([
            "classifier.6.weight": Tensor(shape: w.shape, data: head.weight),
            "classifier.6.bias": Tensor(shape: b.shape, data: head.bias),
        ], metadata: WeightsMetadata.taskMetadata(.baseline, shard: shard, classes: pack.classes, network: spec.network,
                                                  floatScaling: pack.meta.scaling), to: layerURL)

        let curve = TrainingCurve(shard: shard, model: .base, epochs: TaskSupport.epochs(epochs))
        let output = try TaskSupport.headResult(shard: shard, model: .base, head: .output, classes: pack.classes, labels: testLabels, predictions: predictions)
        return TaskOutput(result: try TaskRunner.encode(NetworkResult(curve: curve, output: output)), artifacts: [
            "output_layer.safetensors": layerURL,
            "features_train.npy": try TaskSupport.writeNpy(fTrain, "features_train.npy", io: io),
            "features_test.npy": try TaskSupport.writeNpy(fTest, "features_test.npy", io: io),
            "labels_train.npy": try TaskSupport.writeLabels(trainLabels, "labels_train.npy", io: io),
            "labels_test.npy": try TaskSupport.writeLabels(testLabels, "labels_test.npy", io: io),
        ])
    }
}

import Classifiers
import Datasets
import Engine
import Foundation
import SeafoldCore

/// `baseline(dataset, variant, fold)`: only the output layer is trained; every other layer stays
/// at the pretrained weights (paper §3.1). The output layer starts from the same initial
/// weights as the shard's fine-tune (`TaskSupport.outputLayerSeedLabel`).
///
/// `training.base_dropout` (default true) follows the reference loop, PyTorch's `model.train()`
/// with the lower layers frozen: dropout in classifier.0 and classifier.3 stays active, so the
/// penultimate features are noisy during training. The pooled features (input of
/// classifier.0) never change, so they are computed once; each step runs only
/// dropout → fc6 → ReLU → dropout → fc7 → ReLU on them, with the dropout stream
/// "base-dropout/<shard>" consumed as the full network would. With `base_dropout: false` the
/// frozen layers run in eval mode, the penultimate features are computed once and the output
/// layer trains on them. Both equal the naive loop (PipelineTests: BaselineEquivalenceTests),
/// at a fraction of its cost. The features written for the heads are always eval mode.
enum BaselineTask {
    static func run(_ spec: BaselineSpec, io: TaskIO) throws -> TaskOutput {
        let shard = spec.shard, training = spec.training
        let pack = try PackData(io: io)
        let (trainIdx, testIdx) = try pack.split(spec.split, seed: spec.seed)
        let trainLabels = trainIdx.map { pack.labels[$0] }
        let testLabels = testIdx.map { pack.labels[$0] }
        let model = try TaskSupport.networkFromPretrained(spec.network, seed: spec.seed, classes: pack.classes.count, io: io,
                                                          seedLabel: TaskSupport.outputLayerSeedLabel(shard))
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
        let curveEpochs: [EpochStats]
        if training.baseDropout && model.config.dropout > 0 {
            io.progress(0.4, "baseline \(shard): computing pooled features")
            let pooled = try pooledFeatures(model, pack: pack, indices: trainIdx)
            io.progress(0.5, "baseline \(shard): training the output layer for \(training.epochs) epochs (dropout \(model.config.dropout) active)")
            curveEpochs = try trainWithDropout(head, model: model, pooled: pooled, labels: trainLabels, epochs: training.epochs,
                                               batchSize: training.batchSize, order: { sampler.epoch(rng: &rng) },
                                               dropoutRNG: SeededGenerator.derive(seed: spec.seed, "base-dropout/\(shard)"))
        } else {
            io.progress(0.5, "baseline \(shard): training the output layer for \(training.epochs) epochs on cached features")
            curveEpochs = TaskSupport.epochs(try head.train(fTrain, labels: trainLabels, epochOrder: { _ in sampler.epoch(rng: &rng) }))
        }
        let predictions = try head.predict(fTest)

        let layerURL = io.outputURL(.outputLayer)
        try Safetensors.write([
            "classifier.6.weight": Tensor(shape: w.shape, data: head.weight),
            "classifier.6.bias": Tensor(shape: b.shape, data: head.bias),
        ], metadata: WeightsMetadata.taskMetadata(.baseline, shard: shard, classes: pack.classes, network: spec.network,
                                                  floatScaling: pack.meta.scaling), to: layerURL)

        let curve = TrainingCurve(shard: shard, model: .base, epochs: curveEpochs)
        let output = try TaskSupport.headResult(shard: shard, model: .base, head: .output, classes: pack.classes, labels: testLabels, predictions: predictions)
        return TaskOutput(result: try TaskRunner.encode(NetworkResult(curve: curve, output: output)), outputs: [
            .outputLayer: layerURL,
            .featuresTrain: try TaskSupport.writeNpy(fTrain, .featuresTrain, io: io),
            .featuresTest: try TaskSupport.writeNpy(fTest, .featuresTest, io: io),
            .labelsTrain: try TaskSupport.writeLabels(trainLabels, .labelsTrain, io: io),
            .labelsTest: try TaskSupport.writeLabels(testLabels, .labelsTest, io: io),
        ])
    }

    /// Pooled features (input of classifier.0) of `indices`, one row each.
    static func pooledFeatures(_ model: AlexNet, pack: PackData, indices: [Int], batch: Int = 32) throws -> FeatureMatrix {
        try TaskSupport.features(pack: pack, indices: indices, batch: batch, model.pooledFeatures)
    }

    /// The output layer trained as the reference loop trains it with dropout active: per epoch
    /// the sampler's order cut into batches; each batch's penultimate features are the frozen
    /// classifier layers in training mode on its pooled features. The frozen layers do not depend
    /// on the output layer, so an epoch's features are computed first (batch by batch, the
    /// dropout stream in step order) and the head then takes that epoch's steps on them.
    static func trainWithDropout(_ head: LinearHead, model: AlexNet, pooled: FeatureMatrix, labels: [Int], epochs: Int,
                                 batchSize: Int, order: () -> [Int], dropoutRNG: SeededGenerator) throws -> [EpochStats] {
        var dropoutRNG = dropoutRNG
        head.config.epochs = 1
        var out: [EpochStats] = []
        for epoch in 0..<epochs {
            let o = order()
            var values: [Float] = []
            var cols = 0
            var start = 0
            while start < o.count {
                let chunk = o[start..<min(start + batchSize, o.count)]
                var x: [Float] = []
                x.reserveCapacity(chunk.count * pooled.cols)
                for i in chunk { x += pooled.values[(i * pooled.cols)..<((i + 1) * pooled.cols)] }
                let h = try model.penultimate(fromPooled: Tensor(shape: [chunk.count, pooled.cols], data: x), training: true, rng: &dropoutRNG)
                cols = h.shape[1]
                values += h.scalars
                start += batchSize
            }
            let features = try FeatureMatrix(rows: o.count, cols: cols, values: values)
            let stats = try head.train(features, labels: o.map { labels[$0] }, epochOrder: { _ in Array(0..<o.count) })
            out += stats.map { EpochStats(epoch: epoch + 1, loss: $0.loss, accuracy: $0.accuracy) }
        }
        return out
    }
}

import Classifiers
import Datasets
import Engine
import Foundation
import SeafoldCore

/// `finetune(dataset, variant, fold)`: every layer trained from the pretrained weights with a
/// fresh output layer (paper §3.1: cross entropy, Adam lr 1e-4, batch 6, 100 epochs). Writes
/// the weights, the 4096-d penultimate features (eval mode) of train and test images, and the
/// output layer's own test metrics. Resumes from its latest checkpoint.
enum FineTuneTask {
    static func run(_ spec: FineTuneSpec, io: TaskIO) throws -> TaskOutput {
        let t0 = Date()
        let shard = spec.shard, training = spec.training
        let pack = try PackData(io: io)
        let (trainIdx, testIdx) = try pack.split(spec.split, seed: spec.seed)
        let trainLabels = trainIdx.map { pack.labels[$0] }
        let model = try TaskSupport.networkFromPretrained(spec.network, seed: spec.seed, classes: pack.classes.count, io: io,
                                                          seedLabel: TaskSupport.outputLayerSeedLabel(shard))
        let opt: Optimizer = training.optimizer == .sgd
            ? SGD(lr: Float(training.lr), momentum: Float(training.momentum), weightDecay: Float(training.weightDecay))
            : Adam(lr: Float(training.lr), weightDecay: Float(training.weightDecay))
        let trainer = try Trainer(model: model, optimizer: opt, trainable: nil)
        var loop = NetworkTraining(model: model, trainer: trainer, optimizer: opt, epochs: training.epochs, batchSize: training.batchSize,
                                   checkpointEvery: training.checkpointEvery,
                                   samplerRNG: SeededGenerator.derive(seed: spec.seed, "sampler/\(shard)"),
                                   dropoutRNG: SeededGenerator.derive(seed: spec.seed, "dropout/\(shard)"))
        try loop.resumeIfPossible(io: io)
        var sampler = try TaskSupport.sampler(variant: shard.variant, labels: trainLabels)
        try loop.run(io: io, label: "finetune \(shard)", order: { rng in sampler.epoch(rng: &rng) }, batch: { chunk in
            let idx = chunk.map { trainIdx[$0] }
            return (pack.batch(idx), idx.map { pack.labels[$0] })
        })

        // Outputs: weights, penultimate features, the output layer's own predictions.
        let weightsURL = io.outputURL(.weights)
        try Safetensors.write(model.stateDict(), metadata: WeightsMetadata.taskMetadata(.finetune, shard: shard, classes: pack.classes,
                                                                                       network: spec.network, floatScaling: pack.meta.scaling), to: weightsURL)
        let fTrain = try TaskSupport.features(model, pack: pack, indices: trainIdx)
        let fTest = try TaskSupport.features(model, pack: pack, indices: testIdx)
        var predictions: [Int] = []
        let feed = TaskSupport.batches(pack: pack, indices: testIdx, batch: 32)
        defer { feed.cancel() }
        while let x = try feed.next() {
            let p = try model.probabilities(x)
            let c = p.shape[1], s = p.scalars
            for r in 0..<p.shape[0] { predictions.append(TaskSupport.argmax(s[(r * c)..<((r + 1) * c)])) }
        }
        let testLabels = testIdx.map { pack.labels[$0] }
        let output = try TaskSupport.headResult(shard: shard, model: .ft, head: .output, classes: pack.classes, labels: testLabels, predictions: predictions)
        let result = NetworkResult(curve: TrainingCurve(shard: shard, model: .ft, epochs: loop.curve), output: output)
        if let r = loop.resumedFrom { io.progress(1, "finetune \(shard) resumed from epoch \(r), done in \(Int(Date().timeIntervalSince(t0))) s") }
        return TaskOutput(result: try TaskRunner.encode(result), outputs: [
            .weights: weightsURL,
            .featuresTrain: try TaskSupport.writeNpy(fTrain, .featuresTrain, io: io),
            .featuresTest: try TaskSupport.writeNpy(fTest, .featuresTest, io: io),
            .labelsTrain: try TaskSupport.writeLabels(trainLabels, .labelsTrain, io: io),
            .labelsTest: try TaskSupport.writeLabels(testLabels, .labelsTest, io: io),
        ])
    }
}

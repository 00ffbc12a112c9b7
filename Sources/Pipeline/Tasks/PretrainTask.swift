import Datasets
import Engine
import Foundation
import SeafoldCore

/// `pretrain`: the weights every fine-tune starts from, when no ImageNet weights are given.
/// `synthetic` trains the network on a many-class generic source task (shapes, gratings,
/// textures — not the SAS classes), so the pretrained features are generic as ImageNet's are;
/// `random` writes the seeded PyTorch-default initialisation.
enum PretrainTask {
    static func run(_ spec: PretrainSpec, io: TaskIO) throws -> TaskOutput {
        let network = spec.network
        let url = io.outputURL(.weights)
        var result = PretrainResult(source: spec.source, classes: 0, epochs: [])
        if spec.source == .random {
            let model = try AlexNet(config: AlexNetConfig(network, numClasses: 1000), seed: SeededGenerator.derivedSeed(spec.seed, "init/pretrain"))
            try Safetensors.write(model.stateDict(), metadata: WeightsMetadata.pretrainMetadata(source: "random", classes: nil, network: network), to: url)
            result.classes = 1000
            return TaskOutput(result: try TaskRunner.encode(result), outputs: [.weights: url])
        }
        let p = try TaskSupport.require(spec.pretraining, "pretraining", .pretrain)
        io.progress(0, "pretrain: generating the synthetic source task (\(p.classes) classes)")
        // The source task has SyntheticSource.classes.count kinds of image; use the first `classes`.
        let kinds = min(p.classes, SyntheticSource.classes.count)
        let samples = try SyntheticSource.generate(count: kinds * p.imagesPerClass, size: network.inputSize, seed: spec.seed, classes: kinds)
        // Images kept as 8-bit grey to bound memory; normalised per batch like the SAS packs.
        let plane = network.inputSize * network.inputSize
        let pre = Preprocessor(inputSize: network.inputSize)
        var pixels = [UInt8](repeating: 0, count: samples.count * plane)
        var labels = [Int](repeating: 0, count: samples.count)
        for (i, s) in samples.enumerated() {
            let img = s.image.width == network.inputSize && s.image.height == network.inputSize ? s.image : pre.resized(s.image)
            labels[i] = s.label
            PackPixels.grey8(img, index: i, into: &pixels)
        }
        let model = try AlexNet(config: AlexNetConfig(network, numClasses: kinds), seed: SeededGenerator.derivedSeed(spec.seed, "init/pretrain"))
        let adam = Adam(lr: Float(p.lr))
        let trainer = try Trainer(model: model, optimizer: adam, trainable: nil)
        var loop = NetworkTraining(model: model, trainer: trainer, optimizer: adam, epochs: p.epochs, batchSize: p.batchSize,
                                   checkpointEvery: 0, samplerRNG: SeededGenerator.derive(seed: spec.seed, "sampler/pretrain"),
                                   dropoutRNG: SeededGenerator.derive(seed: spec.seed, "dropout/pretrain"))
        let n = samples.count, s = network.inputSize
        try loop.run(io: io, label: "pretrain", order: { rng in rng.permutation(n) }, batch: { idx in
            let data = PackPixels.normalisedGrey8(pixels, indices: idx, plane: plane)
            return (Tensor(shape: [idx.count, 3, s, s], data: data), idx.map { labels[$0] })
        })
        try Safetensors.write(model.stateDict(), metadata: WeightsMetadata.pretrainMetadata(source: "synthetic", classes: kinds, network: network), to: url)
        result.classes = kinds
        result.epochs = loop.curve
        return TaskOutput(result: try TaskRunner.encode(result), outputs: [.weights: url])
    }
}

import Classifiers
import Datasets
import Engine
import Foundation
import SeafoldCore

/// Small pieces every task runner shares.
enum TaskSupport {
    static func require<T>(_ value: T?, _ field: String, _ kind: TaskKind) throws -> T {
        guard let v = value else { throw SeafoldError.config(key: "task.\(field)", reason: "a \(kind.rawValue) task spec needs '\(field)'") }
        return v
    }

    /// The sampler of a variant: torchsampler's class-weighted sampler, or a plain shuffle.
    static func sampler(variant: SamplingVariant, labels: [Int]) -> any EpochSampler {
        switch variant {
        case .balanced: return BalancedSampler(labels: labels)
        case .imbalanced: return ShuffleSampler(count: labels.count)
        }
    }

    /// Builds the network for `classes`, starting from the `pretrained` input (all layers but
    /// the output layer, which is replaced by a fresh one seeded from `seedLabel`).
    /// The seed label of a shard's fresh output layer, shared by its fine-tune and its baseline
    /// so both start from the same classifier.6 (the comparison FT vs Base then differs only in
    /// what trains). It depends on the shard (dataset, variant, fold), never on the task kind;
    /// the text is the one fine-tunes always used, so fine-tune results keep their bytes.
    static func outputLayerSeedLabel(_ shard: ShardKey) -> String { "\(shard)/ft" }

    static func networkFromPretrained(_ network: ModelConfig, seed: UInt64, classes: Int, io: TaskIO, seedLabel: String) throws -> AlexNet {
        let model = try AlexNet(config: AlexNetConfig(network, numClasses: classes), seed: SeededGenerator.derivedSeed(seed, "init/" + seedLabel))
        try model.loadWeights(from: try io.input(.pretrained), keepingOwn: "classifier.6.", describedAs: "pretrained weights")
        return model
    }

    static func headResult(shard: ShardKey, model: ModelKind, head: HeadKind, classes: [String], labels: [Int], predictions: [Int]) throws -> HeadResult {
        let m = try ClassificationMetrics(labels: labels, predictions: predictions, numClasses: classes.count, classNames: classes)
        return HeadResult(shard: shard, model: model, head: head, classes: classes, confusion: m.confusion, accuracy: m.accuracy,
                          precision: m.precision, recall: m.recall, f1: m.f1, labels: labels, predictions: predictions, warnings: m.warnings)
    }

    /// Penultimate features (eval mode) of the given images, in batches; the next batch is
    /// assembled on the prefetch thread while the current one runs (no randomness involved).
    static func features(_ model: AlexNet, pack: PackData, indices: [Int], batch: Int = 32) throws -> FeatureMatrix {
        try features(pack: pack, indices: indices, batch: batch, model.penultimateFeatures)
    }

    /// Rows of `extract` applied to the images of `indices`, batch by batch (prefetched).
    static func features(pack: PackData, indices: [Int], batch: Int, _ extract: (Tensor) throws -> Tensor) throws -> FeatureMatrix {
        var values: [Float] = []
        var cols = 0
        let feed = batches(pack: pack, indices: indices, batch: batch)
        defer { feed.cancel() }
        while let x = try feed.next() {
            let f = try extract(x)
            cols = f.shape[1]
            values.append(contentsOf: f.scalars)
        }
        return try FeatureMatrix(rows: indices.count, cols: cols, values: values)
    }

    /// The normalised images of `indices` in consecutive batches of `batch`, prefetched.
    static func batches(pack: PackData, indices: [Int], batch: Int, depth: Int = DataPrefetch.depth) -> Prefetcher<Tensor> {
        Prefetcher(depth: depth) { k in
            let b = k * batch
            guard b < indices.count else { return nil }
            return pack.batch(Array(indices[b..<min(b + batch, indices.count)]))
        }
    }

    static func writeNpy(_ m: FeatureMatrix, _ name: ArtifactName, io: TaskIO) throws -> URL {
        let url = io.outputURL(name)
        try NpyArray(shape: [m.rows, m.cols], floats: m.values).write(to: url)
        return url
    }

    static func writeLabels(_ labels: [Int], _ name: ArtifactName, io: TaskIO) throws -> URL {
        let url = io.outputURL(name)
        try NpyArray(shape: [labels.count], ints: labels).write(to: url)
        return url
    }

    static func readFeatures(_ name: TaskInputName, io: TaskIO) throws -> FeatureMatrix {
        let url = try io.input(name)
        let a = try NpyArray.read(from: url)
        guard a.shape.count == 2 else { throw SeafoldError.badInput(path: url.path, reason: "features must be a 2-D array, found shape \(a.shape)") }
        do { return try FeatureMatrix(npy: a) } catch { throw SeafoldError.badInput(path: url.path, reason: "\(error)") }
    }

    static func readLabels(_ name: TaskInputName, io: TaskIO) throws -> [Int] {
        let url = try io.input(name)
        return try NpyArray.read(from: url).ints(source: url.path)
    }

    /// Pipeline's epoch record from a linear head's (whose epochs count from 0).
    static func epochs(_ stats: [LinearHead.EpochStats]) -> [EpochStats] {
        stats.map { EpochStats(epoch: $0.epoch + 1, loss: $0.loss, accuracy: $0.accuracy) }
    }

    static func argmax(_ row: ArraySlice<Float>) -> Int {
        var best = row.startIndex
        for i in row.indices where row[i] > row[best] { best = i }
        return best - row.startIndex
    }
}

import Datasets
import Engine
import Foundation
import SeafoldCore

/// The epoch loop shared by pretraining and fine-tuning: sampler order, batches, NaN guard,
/// resumable checkpoints (weights + optimizer state + RNG states + curve so far). A task that
/// restarts from a checkpoint ends with bit-identical weights to an uninterrupted run, because
/// every random stream it uses is part of the checkpoint.
public struct NetworkTraining {
    var model: AlexNet
    var trainer: Trainer
    var optimizer: Optimizer
    var epochs: Int
    var batchSize: Int
    var checkpointEvery: Int
    var samplerRNG: SeededGenerator
    var dropoutRNG: SeededGenerator
    var curve: [EpochStats] = []
    var resumedFrom: Int?
    /// The scratch file of the last checkpoint saved.
    var lastCheckpointFile: URL?

    /// Batches assembled ahead of the step on a background thread (0 = on the training thread).
    public var prefetchDepth = DataPrefetch.depth
    /// Told what the training thread is doing as it happens, on that thread (a caller that
    /// times the loop installs it); nil in tasks, and never part of a result.
    public var observer: ((LoopEvent) -> Void)?

    /// The training thread's steps, for `observer`.
    public enum LoopEvent {
        /// About to ask the feed for its next item (a batch or an epoch's end).
        case waiting
        /// That item arrived.
        case received
        /// The optimisation step on the batch just received finished.
        case stepped
        /// The feed is closed: how many items were asked for before they were made, and the
        /// seconds the training thread blocked for them (`Prefetcher.starved`; with no
        /// prefetch thread, every item).
        case finished(starved: Int, starvedSeconds: Double)
    }

    /// What the batch producer hands the training thread: a batch, or the end of an epoch with
    /// the sampler RNG's state right after that epoch's order was drawn (what a checkpoint saves).
    enum FeedItem {
        case batch(x: Tensor, labels: [Int])
        case epochEnd(samplerRNG: SeededGenerator)
    }

    /// Trains for the remaining epochs. `order(epoch, &rng)` gives the epoch's sample order
    /// (indices into the training set), `batch(indices)` the input tensor and labels.
    ///
    /// Both run on the prefetch thread (`Prefetcher`), which walks the epochs in order with its
    /// own copy of the sampler RNG: the sampler stream is drawn in the same order as without
    /// prefetching, and the dropout stream only on this thread, so batches, weights and curve are
    /// identical bit for bit whatever `prefetchDepth` is (PipelineTests checks it). The epoch's
    /// order may be drawn while the previous epoch still trains; the checkpoint still records the
    /// RNG state of the epoch boundary, carried by `FeedItem.epochEnd`.
    public mutating func run(io: TaskIO, label: String, order: @escaping (inout SeededGenerator) -> [Int],
                             batch: @escaping ([Int]) -> (Tensor, [Int])) throws {
        let start = curve.count
        let t0 = Date()
        let feed = Prefetcher(depth: prefetchDepth, produce: NetworkTraining.producer(epochs: start..<epochs, batchSize: batchSize,
                                                                                        rng: samplerRNG, order: order, batch: batch))
        defer {
            feed.cancel()
            observer?(.finished(starved: feed.starved, starvedSeconds: feed.starvedSeconds))
        }
        var epoch = start
        var lossSum = 0.0, correct = 0, seen = 0, step = 0
        while true {
            observer?(.waiting)
            guard let item = try feed.next() else { break }
            observer?(.received)
            switch item {
            case let .batch(x, y):
                let r: (loss: Float, correct: Int)
                do { r = try trainer.step(input: x, labels: y, rng: &dropoutRNG) } catch SeafoldError.diverged(let reason) {
                    // `Trainer.step` refuses a non-finite loss ("loss is nan") without knowing where it is.
                    throw SeafoldError.diverged(reason: "\(label): \(reason) at epoch \(epoch + 1), step \(step + 1); the last good checkpoint is kept (try a lower learning rate)")
                }
                observer?(.stepped)
                guard r.loss.isFinite, r.loss < 1e4 else {
                    throw SeafoldError.diverged(reason: "\(label): loss is \(r.loss) at epoch \(epoch + 1), step \(step + 1); the last good checkpoint is kept (try a lower learning rate)")
                }
                lossSum += Double(r.loss) * Double(y.count)
                correct += r.correct
                seen += y.count
                step += 1
            case let .epochEnd(rng):
                samplerRNG = rng
                let stats = EpochStats(epoch: epoch + 1, loss: lossSum / Double(max(seen, 1)), accuracy: Double(correct) / Double(max(seen, 1)))
                curve.append(stats)
                let done = Double(epoch + 1 - start)
                let eta = Date().timeIntervalSince(t0) / done * Double(epochs - epoch - 1)
                io.progress(Double(epoch + 1) / Double(epochs),
                            String(format: "%@ epoch %d/%d loss %.4f acc %.3f eta %.0fs", label, epoch + 1, epochs, stats.loss, stats.accuracy, eta))
                if checkpointEvery > 0, (epoch + 1) % checkpointEvery == 0, epoch + 1 < epochs {
                    try saveCheckpoint(io: io)
                }
                epoch += 1
                lossSum = 0; correct = 0; seen = 0; step = 0
            }
        }
    }

    /// The feed's item function: for each epoch, its order (from the producer's own copy of the
    /// sampler RNG), its batches in order, then the epoch's end. Called with 0, 1, 2, … on one
    /// thread, so its state needs no lock.
    static func producer(epochs: Range<Int>, batchSize: Int, rng: SeededGenerator, order: @escaping (inout SeededGenerator) -> [Int],
                         batch: @escaping ([Int]) -> (Tensor, [Int])) -> (Int) -> FeedItem? {
        var rng = rng
        var epoch = epochs.lowerBound
        var idx: [Int]? = nil
        var b = 0
        return { _ in
            guard epoch < epochs.upperBound else { return nil }
            if idx == nil { idx = order(&rng); b = 0 }
            let all = idx!
            if b < all.count {
                let chunk = Array(all[b..<min(b + batchSize, all.count)])
                b += batchSize
                let (x, y) = batch(chunk)
                return .batch(x: x, labels: y)
            }
            idx = nil
            epoch += 1
            return .epochEnd(samplerRNG: rng)
        }
    }

    // MARK: checkpoints

    mutating func saveCheckpoint(io: TaskIO) throws {
        var tensors = model.stateDict()
        for (k, v) in optimizer.state() { tensors["optimizer." + k] = v }
        let meta: [String: String] = [
            "epoch": String(curve.count),
            "sampler_rng": samplerRNG.state.map(String.init).joined(separator: ","),
            "dropout_rng": dropoutRNG.state.map(String.init).joined(separator: ","),
            "curve": String(decoding: (try? TaskRunner.encode(curve)) ?? Data(), as: UTF8.self),
        ]
        let url = io.scratchDirectory.appendingPathComponent("checkpoint-\(curve.count).safetensors")
        try Safetensors.write(tensors, metadata: meta, to: url)
        try io.saveCheckpoint(url)
        // Only the newest scratch copy is kept: the scratch directory lives until the task ends,
        // and every epoch's checkpoint would otherwise stay on the worker's disk until then.
        if let previous = lastCheckpointFile, previous != url { try? FileManager.default.removeItem(at: previous) }
        lastCheckpointFile = url
    }

    /// Restores from the runner's latest checkpoint, if there is one.
    mutating func resumeIfPossible(io: TaskIO) throws {
        guard let url = try io.latestCheckpoint() else { return }
        let (tensors, meta) = try Safetensors.read(from: url)
        func rng(_ key: String) throws -> SeededGenerator {
            let words = (meta[key] ?? "").split(separator: ",").compactMap { UInt64($0) }
            guard words.count == 4 else { throw SeafoldError.badInput(path: url.path, reason: "checkpoint metadata '\(key)' is missing or malformed") }
            return SeededGenerator(state: words)
        }
        guard let curveText = meta["curve"], let c = try? JSONDecoder().decode([EpochStats].self, from: Data(curveText.utf8)) else {
            throw SeafoldError.badInput(path: url.path, reason: "checkpoint metadata 'curve' is missing")
        }
        var weights: [String: Tensor] = [:], opt: [String: Tensor] = [:]
        for (k, v) in tensors {
            if k.hasPrefix("optimizer.") { opt[String(k.dropFirst("optimizer.".count))] = v } else { weights[k] = v }
        }
        try model.load(stateDict: weights, strict: true)
        try optimizer.restore(state: opt)
        samplerRNG = try rng("sampler_rng")
        dropoutRNG = try rng("dropout_rng")
        curve = c
        resumedFrom = c.count
    }
}

/// How many batches the training and feature loops assemble ahead (`Prefetcher`). The
/// environment variable SEAFOLD_PREFETCH overrides the default 2 (0 = no prefetch thread), so a
/// run can be repeated with and without prefetching; results are the same bytes either way.
public enum DataPrefetch {
    public static var depth: Int = {
        if let v = ProcessInfo.processInfo.environment["SEAFOLD_PREFETCH"], let n = Int(v), n >= 0 { return n }
        return 2
    }()
}

extension NetworkTraining {
    /// A loop at epoch 0 with no curve yet (`resumeIfPossible` continues a checkpointed one).
    public init(model: AlexNet, trainer: Trainer, optimizer: Optimizer, epochs: Int, batchSize: Int, checkpointEvery: Int,
                samplerRNG: SeededGenerator, dropoutRNG: SeededGenerator) {
        self.model = model; self.trainer = trainer; self.optimizer = optimizer; self.epochs = epochs; self.batchSize = batchSize
        self.checkpointEvery = checkpointEvery; self.samplerRNG = samplerRNG; self.dropoutRNG = dropoutRNG
    }
}

extension AlexNetConfig {
    /// The network a config's `model` section describes, with `numClasses` outputs.
    public init(_ m: ModelConfig, numClasses: Int) {
        self.init(numClasses: numClasses, widthMultiplier: m.widthMultiplier, inputSize: m.inputSize,
                  hiddenWidth: m.hiddenWidth, dropout: Float(m.dropout))
    }
}

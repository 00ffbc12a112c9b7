import Datasets
import Engine
import Foundation
import SeafoldCore

/// The epoch loop shared by pretraining and fine-tuning: sampler order, batches, NaN guard,
/// resumable checkpoints (weights + optimizer state + RNG states + curve so far). A task that
/// restarts from a checkpoint ends with bit-identical weights to an uninterrupted run, because
/// every random stream it uses is part of the checkpoint.
struct NetworkTraining {
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

    /// Trains for the remaining epochs. `order(epoch, &rng)` gives the epoch's sample order
    /// (indices into the training set), `batch(indices)` the input tensor and labels.
    mutating func run(io: TaskIO, label: String, order: (inout SeededGenerator) -> [Int],
                      batch: ([Int]) -> (Tensor, [Int])) throws {
        let start = curve.count
        let t0 = Date()
        for epoch in start..<epochs {
            let idx = order(&samplerRNG)
            var lossSum = 0.0, correct = 0, seen = 0, step = 0
            var b = 0
            while b < idx.count {
                let chunk = Array(idx[b..<min(b + batchSize, idx.count)])
                let (x, y) = batch(chunk)
                let r: (loss: Float, correct: Int)
                do { r = try trainer.step(input: x, labels: y, rng: &dropoutRNG) } catch SeafoldError.diverged(let reason) {
                    // `Trainer.step` refuses a non-finite loss ("loss is nan") without knowing where it is.
                    throw SeafoldError.diverged(reason: "\(label): \(reason) at epoch \(epoch + 1), step \(step + 1); the last good checkpoint is kept (try a lower learning rate)")
                }
                guard r.loss.isFinite, r.loss < 1e4 else {
                    throw SeafoldError.diverged(reason: "\(label): loss is \(r.loss) at epoch \(epoch + 1), step \(step + 1); the last good checkpoint is kept (try a lower learning rate)")
                }
                lossSum += Double(r.loss) * Double(chunk.count)
                correct += r.correct
                seen += chunk.count
                step += 1
                b += batchSize
            }
            let stats = EpochStats(epoch: epoch + 1, loss: lossSum / Double(max(seen, 1)), accuracy: Double(correct) / Double(max(seen, 1)))
            curve.append(stats)
            let done = Double(epoch + 1 - start)
            let eta = Date().timeIntervalSince(t0) / done * Double(epochs - epoch - 1)
            io.progress(Double(epoch + 1) / Double(epochs),
                        String(format: "%@ epoch %d/%d loss %.4f acc %.3f eta %.0fs", label, epoch + 1, epochs, stats.loss, stats.accuracy, eta))
            if checkpointEvery > 0, (epoch + 1) % checkpointEvery == 0, epoch + 1 < epochs {
                try saveCheckpoint(io: io)
            }
        }
    }

    // MARK: checkpoints

    func saveCheckpoint(io: TaskIO) throws {
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

extension AlexNetConfig {
    init(_ m: ModelConfig, numClasses: Int) {
        self.init(numClasses: numClasses, widthMultiplier: m.widthMultiplier, inputSize: m.inputSize,
                  hiddenWidth: m.hiddenWidth, dropout: Float(m.dropout))
    }
}

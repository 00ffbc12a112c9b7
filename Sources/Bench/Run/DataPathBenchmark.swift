import Datasets
import Engine
import Foundation
import Pipeline
import SeafoldCore

/// `seafold bench data`'s training-loop part: the fine-tune loop itself (`NetworkTraining`, the
/// balanced sampler, pack batches normalised per step, Adam, dropout) on an in-memory pack of
/// grey uint16 images at the model's input size, run with a given prefetch depth. It reports
/// how long the training thread waited for the next batch against the time in optimisation
/// steps; the pack's pixels are random, which does not change the batch assembly's cost.
public enum DataPathBenchmark {
    public struct Result: Codable, Sendable {
        public var prefetchDepth: Int
        public var inputSize: Int
        public var batchSize: Int
        public var steps: Int
        public var epochs: Int
        /// Seconds the training thread spent waiting for batches (all of `next()`), in total.
        public var dataWaitSeconds: Double
        /// The same without the first batch, which nothing can prefetch: the steady state.
        public var steadyWaitPerStepSeconds: Double
        public var stepSecondsTotal: Double
        public var stepSecondsMean: Double
        /// Requests that found the next item not yet made, out of `items` (batches + epoch ends),
        /// and the seconds blocked for them: the time the step really waited for data.
        public var starved: Int
        public var items: Int
        public var starvedSeconds: Double
        /// Every wait of the training thread, in order (batches and epoch ends), seconds.
        public var waits: [Double]
        /// One batch's assembly (sampler indices → normalised [B, 3, S, S]) on its own, median.
        public var batchAssemblySeconds: Double
    }

    /// Trains `steps` steps over two epochs (so an epoch boundary is crossed) of full-width
    /// AlexNet (`widthMultiplier`) at `inputSize`.
    public static func run(inputSize: Int, widthMultiplier: Double, batchSize: Int, steps: Int, depth: Int, seed: UInt64 = 1) throws -> Result {
        let epochs = 2
        let perEpoch = max(1, steps / epochs)
        let n = perEpoch * batchSize
        var rng = SeededGenerator(seed: seed)
        let plane = inputSize * inputSize
        var px = [UInt16](repeating: 0, count: n * plane)
        for i in px.indices { px[i] = UInt16(truncatingIfNeeded: rng.next()) }
        let labels = (0..<n).map { $0 % 4 == 3 && $0 % 8 != 7 ? 0 : $0 % 4 }  // imbalanced, so the sampler has weights to use
        let meta = PackMeta(name: "bench", classes: ["a", "b", "c", "d"], labels: labels, files: [], inputSize: inputSize, channels: 1,
                            scaling: "none", warnings: [], hasMasks: false)
        let pack = PackData(meta: meta, channels: 1, size: inputSize, pixels: px)

        var assembly: [Double] = []
        for k in 0..<5 {
            let idx = (0..<batchSize).map { (k * 7 + $0 * 13) % n }
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = pack.batch(idx)
            assembly.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }

        let model = try AlexNet(config: AlexNetConfig(numClasses: 4, widthMultiplier: widthMultiplier, inputSize: inputSize), seed: seed)
        let adam = Adam(lr: 1e-4)
        let trainer = try Trainer(model: model, optimizer: adam, trainable: nil)
        var loop = NetworkTraining(model: model, trainer: trainer, optimizer: adam, epochs: epochs, batchSize: batchSize, checkpointEvery: 0,
                                   samplerRNG: SeededGenerator.derive(seed: seed, "sampler"), dropoutRNG: SeededGenerator.derive(seed: seed, "dropout"))
        loop.prefetchDepth = depth
        var sampler = BalancedSampler(labels: labels)
        let io = try BenchmarkIO()
        defer { io.remove() }
        let t = LoopTimer()
        loop.observer = t.observe
        try loop.run(io: io, label: "bench", order: { sampler.epoch(rng: &$0) }, batch: { chunk in
            (pack.batch(chunk), chunk.map { labels[$0] })
        })
        let waits = t.waits
        return Result(prefetchDepth: depth, inputSize: inputSize, batchSize: batchSize, steps: t.steps, epochs: epochs,
                      dataWaitSeconds: t.dataWaitSeconds,
                      steadyWaitPerStepSeconds: (t.dataWaitSeconds - (waits.first ?? 0)) / Double(max(t.steps - 1, 1)),
                      stepSecondsTotal: t.stepSeconds, stepSecondsMean: t.stepSeconds / Double(max(t.steps, 1)),
                      starved: t.starved, items: waits.count, starvedSeconds: t.starvedSeconds,
                      waits: waits, batchAssemblySeconds: assembly.sorted()[assembly.count / 2])
    }
}

/// Where the training loop's time went, from its `NetworkTraining.LoopEvent`s: the waits for
/// the feed's next item (batches and epoch ends) and the optimisation steps.
final class LoopTimer {
    private(set) var steps = 0
    private(set) var dataWaitSeconds = 0.0
    private(set) var stepSeconds = 0.0
    private(set) var starved = 0
    private(set) var starvedSeconds = 0.0
    /// Every wait, in order, seconds.
    private(set) var waits: [Double] = []
    private var waitStart: UInt64 = 0, received: UInt64 = 0

    func observe(_ event: NetworkTraining.LoopEvent) {
        let now = DispatchTime.now().uptimeNanoseconds
        switch event {
        case .waiting: waitStart = now
        case .received:
            received = now
            let w = Double(now - waitStart) / 1e9
            dataWaitSeconds += w
            waits.append(w)
        case .stepped:
            stepSeconds += Double(now - received) / 1e9
            steps += 1
        case let .finished(n, seconds):
            starved += n
            starvedSeconds += seconds
        }
    }
}

import Engine
import Foundation
import SeafoldCore

extension EngineBenchmark {
    /// One round of the headline figures, for interleaving with another measurement (PyTorch,
    /// or this program under glibc's default malloc) in the same run.
    public struct RoundFigures: Codable, Sendable {
        public var sgemmSquare2048GFLOPs: Double
        public var trainStepSeconds: Double
        public var inferenceImagesPerSecondBatch64: Double
    }

    /// A full AlexNet (224 px, 1000 classes) with an Adam trainer and fixed inputs, kept across rounds.
    public final class Rig {
        let net: AlexNet, trainer: Trainer
        let x6: Tensor, x64: Tensor, labels: [Int]
        var rng = SeededGenerator(seed: 2)

        public init(batch: Int = 6) throws {
            let config = AlexNetConfig(numClasses: 1000)
            net = try AlexNet(config: config, seed: 1)
            trainer = try Trainer(model: net, optimizer: Adam(lr: 1e-4))
            let s = config.inputSize
            var g = SeededGenerator(seed: 3)
            x6 = Tensor(shape: [batch, 3, s, s], data: (0..<(batch * 3 * s * s)).map { _ in g.uniform(-2, 2) })
            x64 = Tensor(shape: [64, 3, s, s], data: (0..<(64 * 3 * s * s)).map { _ in g.uniform(-2, 2) })
            labels = (0..<batch).map { $0 % 1000 }
        }

        /// Median train step over `repeats` steps after one warm-up, median batch-64 inference,
        /// and square-2048 sgemm, measured now.
        public func round(repeats: Int) throws -> RoundFigures {
            let sq = EngineBenchmark.sgemmGFLOPs(m: 2048, k: 2048, n: 2048, repeats: max(3, repeats))
            var ts: [Double] = []
            for r in 0...repeats {
                let t0 = EngineBenchmark.now()
                try trainer.step(input: x6, labels: labels, rng: &rng)
                if r > 0 { ts.append(EngineBenchmark.now() - t0) }
            }
            net.evalBatchSize = 64
            var inf: [Double] = []
            for r in 0...max(1, repeats / 2) {
                let t0 = EngineBenchmark.now()
                _ = try net.forward(x64, training: false, rng: &rng)
                if r > 0 { inf.append(EngineBenchmark.now() - t0) }
            }
            return RoundFigures(sgemmSquare2048GFLOPs: sq, trainStepSeconds: EngineBenchmark.median(ts),
                                inferenceImagesPerSecondBatch64: 64 / EngineBenchmark.median(inf))
        }
    }
}

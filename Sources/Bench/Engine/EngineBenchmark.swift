import Engine
import Foundation
import SeafoldCore

/// Measurements behind `seafold bench engine`: train-step and inference speed of an AlexNet
/// shape, FLOPs, and same-process sgemm speed (the machine's speed drifts within minutes, so
/// GEMM figures must come from the same run).
public enum EngineBenchmark {
    /// One GEMM shape and its measured speed.
    public struct GemmFigure: Codable, Sendable {
        public var label: String, m: Int, k: Int, n: Int, gflops: Double
    }

    /// Figures for one network shape.
    public struct ShapeFigures: Codable, Sendable {
        public var label: String
        public var config: AlexNetConfig
        public var batch: Int
        public var parameters: Int
        public var forwardFlopsPerImage: Double
        public var trainStepSeconds: Double
        public var trainImagesPerSecond: Double
        /// Train-step FLOPs (≈ 3 × forward; conv1's input gradient is skipped) per second, in G.
        public var trainGFLOPs: Double
        /// Train step with Linear weight gradients written densely (sgemm) and read back by Adam,
        /// median seconds, measured alternately with `trainStepSeconds` (which uses the fused
        /// low-rank path where it pays).
        public var trainStepUnfusedSeconds: Double
        /// Median over adjacent (fused, dense) step pairs of fused seconds / dense seconds.
        public var fusedOverDenseStep: Double
        /// The part that changes, alone: sgemm dW of the deferred Linear weights + Adam over all
        /// parameters (dense), versus Adam computing those dW on the fly (fused); medians, and
        /// the median of adjacent-pair ratios. NaN when no weight is deferred at this shape.
        public var updateDenseSeconds: Double
        public var updateFusedSeconds: Double
        public var fusedOverDenseUpdate: Double
        /// The Adam update alone (all parameters, dense gradients), median seconds.
        public var adamStepSeconds: Double
        /// Adam's achieved memory traffic, GB/s: 7 floats (28 bytes) per parameter and step,
        /// read p, g, m, v and write p, m, v.
        public var adamGBps: Double
        /// Same-run multi-threaded copy bandwidth, GB/s, counting read + write bytes (memcpy of
        /// 256 MiB cut into the same parts as Adam, measured alternately with Adam).
        public var copyGBps: Double
        public var inferenceImagesPerSecondBatch6: Double
        public var inferenceImagesPerSecondBatch64: Double
        public var inferenceGFLOPsBatch64: Double
        /// Peak resident memory of the whole process so far (VmHWM) right after the train steps, bytes;
        /// for the first shape measured this is the batch-6 train-step peak (model, Adam state, buffers).
        public var peakRSSAfterTrainBytes: Int
        public var convGemm: [GemmFigure]
    }

    /// Conv GEMM shapes of the forward pass at `batch` (M = out channels, K = in·k·k, N = batch·H·W).
    public static func convGemmShapes(_ net: AlexNet, batch: Int) -> [(label: String, m: Int, k: Int, n: Int)] {
        net.layers.compactMap { l -> (String, Int, Int, Int)? in
            guard let c = l as? Conv2d else { return nil }
            return (c.name, c.outChannels, c.taps, batch * c.outputPixels)
        }
    }

    /// Measures one network shape: Adam train steps (all layers trainable) and eval inference.
    public static func measure(label: String, config: AlexNetConfig, batch: Int, repeats: Int,
                               progress: (String) -> Void) throws -> ShapeFigures {
        let net = try AlexNet(config: config, seed: 1)
        let trainer = try Trainer(model: net, optimizer: Adam(lr: 1e-4))
        var rng = SeededGenerator(seed: 2)
        let s = config.inputSize
        func randomBatch(_ n: Int) -> Tensor {
            Tensor(shape: [n, 3, s, s], data: (0..<(n * 3 * s * s)).map { _ in rng.uniform(-2, 2) })
        }
        let x6 = randomBatch(batch)
        let labels = (0..<batch).map { $0 % config.numClasses }
        progress("\(label): train steps (fused and dense FC gradients, alternating)")
        let wasDeferred = net.options.deferredWeightGradients
        defer { net.options.deferredWeightGradients = wasDeferred }
        var times: [Double] = [], unfusedTimes: [Double] = []
        // Steps alternate fused/dense; adjacent steps see the same machine, so the per-pair
        // ratio is steadier than a ratio of medians (at least 8 pairs).
        for r in 0...max(8, repeats) {
            for fused in [true, false] {
                net.options.deferredWeightGradients = fused
                let t0 = now()
                try trainer.step(input: x6, labels: labels, rng: &rng)
                if r > 0 { fused ? times.append(now() - t0) : unfusedTimes.append(now() - t0) }
            }
        }
        let train = median(times), trainUnfused = median(unfusedTimes)
        let peak = peakRSSBytes()
        // The mechanism alone, on one gradient: dense = sgemm dW for the deferred weights, then
        // Adam over everything; fused = Adam over everything computing those dW on the fly.
        progress("\(label): FC gradient + Adam, dense vs fused (alternating)")
        net.options.deferredWeightGradients = true
        try trainer.step(input: x6, labels: labels, rng: &rng)
        net.options.deferredWeightGradients = wasDeferred
        let deferred = net.parameters.filter(\.gradientIsDeferred)
        var fusedUpd: [Double] = [], denseUpd: [Double] = []
        if !deferred.isEmpty {
            for r in 0...max(9, 2 * repeats) {
                let t0 = now(); trainer.optimizer.step(net.parameters); let f = now() - t0
                let t1 = now()
                for p in deferred { p.materialiseGradient() }
                trainer.optimizer.step(net.parameters)
                let d = now() - t1
                for p in deferred { p.restoreDeferredGradient() }
                if r > 0 { fusedUpd.append(f); denseUpd.append(d) }
            }
        }
        progress("\(label): Adam alone and copy bandwidth (alternating)")
        for p in net.parameters { p.materialiseGradient() }   // dense gradients: 7 floats/element
        let copy = CopyBench(bytes: 256 << 20)
        var adamTimes: [Double] = [], copyTimes: [Double] = []
        // Cheap, and the noisiest figure on a shared machine: more samples.
        for r in 0...max(9, 2 * repeats) {
            let c = copy.seconds()
            let t0 = now(); trainer.optimizer.step(net.parameters); let a = now() - t0
            if r > 0 { adamTimes.append(a); copyTimes.append(c) }
        }
        let adam = median(adamTimes)
        let fwd = Double(net.forwardFlopsPerImage)
        progress("\(label): inference")
        func inference(_ n: Int) throws -> Double {
            let x = n == batch ? x6 : randomBatch(n)
            net.evalBatchSize = n
            var ts: [Double] = []
            for r in 0...max(1, repeats / 2) {
                let t0 = now()
                _ = try net.forward(x, training: false, rng: &rng)
                if r > 0 { ts.append(now() - t0) }
            }
            return Double(n) / median(ts)
        }
        let inf6 = try inference(6), inf64 = try inference(64)
        progress("\(label): conv GEMM shapes")
        let gemm = convGemmShapes(net, batch: batch).map {
            GemmFigure(label: $0.label, m: $0.m, k: $0.k, n: $0.n, gflops: sgemmGFLOPs(m: $0.m, k: $0.k, n: $0.n, repeats: max(3, repeats)))
        }
        return ShapeFigures(label: label, config: config, batch: batch, parameters: net.parameterCount,
                            forwardFlopsPerImage: fwd, trainStepSeconds: train,
                            trainImagesPerSecond: Double(batch) / train,
                            trainGFLOPs: 3 * fwd * Double(batch) / train / 1e9,
                            trainStepUnfusedSeconds: trainUnfused,
                            fusedOverDenseStep: median(zip(times, unfusedTimes).map { $0 / $1 }),
                            updateDenseSeconds: median(denseUpd), updateFusedSeconds: median(fusedUpd),
                            fusedOverDenseUpdate: median(zip(fusedUpd, denseUpd).map { $0 / $1 }),
                            adamStepSeconds: adam,
                            adamGBps: 28 * Double(net.parameterCount) / adam / 1e9,
                            copyGBps: 2 * Double(copy.bytes) / median(copyTimes) / 1e9,
                            inferenceImagesPerSecondBatch6: inf6, inferenceImagesPerSecondBatch64: inf64,
                            inferenceGFLOPsBatch64: fwd * inf64 / 1e9,
                            peakRSSAfterTrainBytes: peak, convGemm: gemm)
    }
}


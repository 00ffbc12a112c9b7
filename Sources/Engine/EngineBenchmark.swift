import Foundation
import SeafoldCore

/// Measurements behind `seafold bench engine`: train-step and inference speed of an AlexNet
/// shape, FLOPs, and same-process sgemm speed (the machine's speed drifts 2–3× within minutes,
/// so GEMM figures must come from the same run).
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
        /// The Adam update alone (all parameters), median seconds: memory-bound, 7 floats per parameter.
        public var adamStepSeconds: Double
        public var inferenceImagesPerSecondBatch6: Double
        public var inferenceImagesPerSecondBatch64: Double
        public var inferenceGFLOPsBatch64: Double
        /// Peak resident memory of the whole process so far (VmHWM) right after the train steps, bytes;
        /// for the first shape measured this is the batch-6 train-step peak (model, Adam state, buffers).
        public var peakRSSAfterTrainBytes: Int
        public var convGemm: [GemmFigure]
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted(); if s.isEmpty { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func now() -> Double {
        var ts = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Median GFLOP/s of C[M×N] = A[M×K]·B[K×N] (row-major, no transposes).
    public static func sgemmGFLOPs(m: Int, k: Int, n: Int, repeats: Int) -> Double {
        let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), c = FloatBuffer(count: m * n)
        var rng = SeededGenerator(seed: 1)
        for i in 0..<(m * k) { a.ptr[i] = rng.uniform(-1, 1) }
        for i in 0..<(k * n) { b.ptr[i] = rng.uniform(-1, 1) }
        var times: [Double] = []
        for r in 0...max(1, repeats) {
            let t0 = now()
            sgemm(transA: false, transB: false, m: m, n: n, k: k, a: a.ptr, lda: k, b: b.ptr, ldb: n, beta: 0, c: c.ptr, ldc: n)
            if r > 0 { times.append(now() - t0) }   // first call warms up
        }
        return 2.0 * Double(m) * Double(k) * Double(n) / median(times) / 1e9
    }

    /// Peak resident set size (VmHWM) of this process, bytes; 0 if unknown.
    public static func peakRSSBytes() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let parts = line.split(separator: " ").filter { !$0.isEmpty }
            if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
        }
        return 0
    }

    /// Conv GEMM shapes of the forward pass at `batch` (M = out channels, K = in·k·k, N = batch·H·W).
    public static func convGemmShapes(_ net: AlexNet, batch: Int) -> [(label: String, m: Int, k: Int, n: Int)] {
        net.layers.compactMap { l -> (String, Int, Int, Int)? in
            guard let c = l as? Conv2d else { return nil }
            return (c.name, c.outChannels, c.kDim, batch * c.hw)
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
        progress("\(label): train steps")
        var times: [Double] = []
        for r in 0...repeats {
            let t0 = now()
            try trainer.step(input: x6, labels: labels, rng: &rng)
            if r > 0 { times.append(now() - t0) }
        }
        let train = median(times)
        let peak = peakRSSBytes()
        var adamTimes: [Double] = []
        for _ in 0..<max(3, repeats) {
            let t0 = now(); trainer.optimizer.step(net.parameters); adamTimes.append(now() - t0)
        }
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
                            adamStepSeconds: median(adamTimes),
                            inferenceImagesPerSecondBatch6: inf6, inferenceImagesPerSecondBatch64: inf64,
                            inferenceGFLOPsBatch64: fwd * inf64 / 1e9,
                            peakRSSAfterTrainBytes: peak, convGemm: gemm)
    }
}

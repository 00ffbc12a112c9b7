import Engine
import Foundation
import SeafoldCore

/// Measurements behind `seafold bench conv`: every AlexNet convolution (torchvision geometry,
/// 224 px) timed alone — forward, backward-data and backward-weight at the train batch, forward
/// at the inference batch — for the im2col path and, where it applies, the Winograd path, each
/// next to the same-run sgemm speed on that layer's GEMM shapes; plus whole-network inference
/// (with a per-layer time breakdown) and the Adam train step under both paths.
///
/// FLOPs are always the direct convolution's, 2·Cout·Cin·k²·Hout·Wout per sample, for each of
/// the three passes (in im2col form each is one GEMM of that size), so a path that needs fewer
/// arithmetic operations can exceed 100 % of the sgemm speed.
public enum ConvBenchmark {
    /// Time and speed of one pass; `ofSgemm` is GFLOP/s divided by the same-run sgemm GFLOP/s
    /// on the GEMM shape this pass would use in im2col form.
    public struct Pass: Codable, Sendable {
        public var seconds: Double, gflops: Double, sgemmGFLOPs: Double, ofSgemm: Double
    }

    /// One convolution at one batch size with one algorithm.
    public struct LayerFigure: Codable, Sendable {
        public var layer: String
        public var algorithm: String
        public var batch: Int
        public var inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, inSize: Int, outSize: Int
        /// Forward GEMM shape of the im2col form: M = Cout, K = Cin·k², N = batch·Hout·Wout.
        public var gemmM: Int, gemmK: Int, gemmN: Int
        public var forward: Pass
        public var backwardData: Pass?
        public var backwardWeight: Pass?
    }

    /// Whole-network eval forward at one batch size.
    public struct Inference: Codable, Sendable {
        public var algorithm: String
        public var batch: Int
        public var imagesPerSecond: Double
        /// Direct-convolution FLOPs (conv + linear) per second, in G.
        public var gflops: Double
        /// Median seconds per layer (one batch), in execution order.
        public var layerSeconds: [LayerTime]
    }

    public struct LayerTime: Codable, Sendable { public var layer: String, seconds: Double }

    /// The Adam train step (all layers trainable) with one algorithm.
    public struct TrainStep: Codable, Sendable {
        public var algorithm: String, batch: Int, seconds: Double
    }

    static func now() -> Double { EngineBenchmark.now() }

    static func median(_ xs: [Double]) -> Double { EngineBenchmark.median(xs) }

    /// Median GFLOP/s of C[M×N] = op(A)·op(B) through the engine's `sgemm` (first call warms up).
    public static func sgemmGFLOPs(m: Int, k: Int, n: Int, transA: Bool = false, transB: Bool = false, repeats: Int) -> Double {
        EngineBenchmark.sgemmGFLOPs(m: m, k: k, n: n, transA: transA, transB: transB, repeats: repeats)
    }

    /// The convolutions of torchvision's AlexNet at `inputSize` (fresh layers, PyTorch init).
    static func alexNetConvs(inputSize: Int) throws -> [Conv2d] {
        let net = try AlexNet(config: AlexNetConfig(numClasses: 1000, inputSize: inputSize), seed: 1)
        return net.layers.compactMap { $0 as? Conv2d }
    }

    /// Times every AlexNet convolution. `trainBatch` gets forward + both backward passes,
    /// `inferenceBatch` forward only; each layer with im2col and, where one applies, its fast path
    /// (Winograd F(2×2, 3×3) or F(3×3, 5×5), or the implicit-GEMM forward).
    public static func measureLayers(trainBatch: Int, inferenceBatch: Int, inputSize: Int = 224, only: Set<String>? = nil,
                                     repeats: Int, progress: (String) -> Void) throws -> [LayerFigure] {
        var out: [LayerFigure] = []
        var rng = SeededGenerator(seed: 3)
        for conv in try alexNetConvs(inputSize: inputSize) where only?.contains(conv.name) ?? true {
            var r2 = SeededGenerator.derive(seed: 1, "bench/" + conv.name)
            conv.resetParameters(rng: &r2)
            let m = conv.outChannels, k = conv.taps
            let algorithms: [ConvAlgorithm] = conv.hasFastPath ? [.im2col, .fast] : [.im2col]
            for batch in [trainBatch, inferenceBatch] {
                let training = batch == trainBatch
                let n = batch * conv.outputPixels
                progress("\(conv.name) batch \(batch): sgemm")
                let fwdS = sgemmGFLOPs(m: m, k: k, n: n, repeats: repeats)
                let dataS = training ? sgemmGFLOPs(m: k, k: m, n: n, transA: true, repeats: repeats) : 0
                let weightS = training ? sgemmGFLOPs(m: m, k: n, n: k, transB: true, repeats: repeats) : 0
                let x = AlignedFloats(count: batch * conv.inputCount), gy = AlignedFloats(count: batch * conv.outputCount)
                for i in 0..<(batch * conv.inputCount) { x.ptr[i] = rng.uniform(-1, 1) }
                for i in 0..<(batch * conv.outputCount) { gy.ptr[i] = rng.uniform(-1e-3, 1e-3) }
                for algorithm in algorithms {
                    conv.options.convolution = algorithm
                    let label = algorithm == .im2col ? "im2col" : conv.fastPathLabel(batch: batch)
                    progress("\(conv.name) batch \(batch): \(label)")
                    var tf: [Double] = [], td: [Double] = [], tw: [Double] = []
                    for r in 0...max(1, repeats) {
                        var g = SeededGenerator(seed: 0)
                        var t0 = now()
                        _ = conv.forward(buffer: x.ptr, batch: batch, training: training, rng: &g)
                        let f = now() - t0
                        var w = 0.0, d = 0.0
                        if training {
                            // The order of a train step: weight gradient, then input gradient.
                            conv.setTrainable(true)
                            t0 = now(); _ = conv.backward(buffer: gy.ptr, batch: batch, inputGrad: false); w = now() - t0
                            conv.setTrainable(false)
                            t0 = now(); _ = conv.backward(buffer: gy.ptr, batch: batch, inputGrad: true); d = now() - t0
                            conv.setTrainable(true)
                        }
                        if r > 0 { tf.append(f); tw.append(w); td.append(d) }
                    }
                    let flops = Double(conv.flopsPerSample) * Double(batch)
                    func pass(_ ts: [Double], _ s: Double) -> Pass {
                        let sec = median(ts), gf = flops / sec / 1e9
                        return Pass(seconds: sec, gflops: gf, sgemmGFLOPs: s, ofSgemm: gf / s)
                    }
                    out.append(LayerFigure(layer: conv.name, algorithm: label, batch: batch,
                                           inChannels: conv.inChannels, outChannels: conv.outChannels, kernel: conv.kernel,
                                           stride: conv.stride, padding: conv.padding, inSize: conv.inputSize, outSize: conv.outputSize,
                                           gemmM: m, gemmK: k, gemmN: n, forward: pass(tf, fwdS),
                                           backwardData: training ? pass(td, dataS) : nil,
                                           backwardWeight: training ? pass(tw, weightS) : nil))
                }
            }
        }
        return out
    }

    /// Whole AlexNet (1000 classes) eval forward at `batch`, per algorithm, with a per-layer breakdown.
    public static func measureInference(batch: Int, inputSize: Int = 224, repeats: Int, algorithm: ConvAlgorithm) throws -> Inference {
        let net = try AlexNet(config: AlexNetConfig(numClasses: 1000, inputSize: inputSize), seed: 1,
                              options: EngineOptions(convolution: algorithm))
        var rng = SeededGenerator(seed: 2)
        let s = inputSize
        let x = Tensor(shape: [batch, 3, s, s], data: (0..<(batch * 3 * s * s)).map { _ in rng.uniform(-2, 2) })
        net.evalBatchSize = batch
        let staged = AlignedFloats(count: x.count)
        var totals: [Double] = []
        var perLayer = [[Double]](repeating: [], count: net.layers.count)
        for r in 0...max(1, repeats) {
            let t0 = now()
            _ = try net.forward(x, training: false, rng: &rng)
            if r > 0 { totals.append(now() - t0) }
            // The same pass layer by layer, for the breakdown.
            staged.copy(from: x.data)
            var p = staged.ptr
            for (i, l) in net.layers.enumerated() {
                let t1 = now()
                p = l.forward(buffer: p, batch: batch, training: false, rng: &rng)
                if r > 0 { perLayer[i].append(now() - t1) }
            }
        }
        let ips = Double(batch) / median(totals)
        return Inference(algorithm: algorithm.rawValue, batch: batch, imagesPerSecond: ips,
                         gflops: Double(net.forwardFlopsPerImage) * ips / 1e9,
                         layerSeconds: zip(net.layers, perLayer).map { LayerTime(layer: $0.0.name, seconds: median($0.1)) })
    }

    /// Median seconds of the Adam train step (224 px, all layers trainable) with one algorithm.
    public static func measureTrainStep(batch: Int, inputSize: Int = 224, repeats: Int, algorithm: ConvAlgorithm) throws -> TrainStep {
        let net = try AlexNet(config: AlexNetConfig(numClasses: 1000, inputSize: inputSize), seed: 1,
                              options: EngineOptions(convolution: algorithm))
        let trainer = try Trainer(model: net, optimizer: Adam(lr: 1e-4))
        var rng = SeededGenerator(seed: 2)
        let s = inputSize
        let x = Tensor(shape: [batch, 3, s, s], data: (0..<(batch * 3 * s * s)).map { _ in rng.uniform(-2, 2) })
        let labels = (0..<batch).map { $0 % 1000 }
        var ts: [Double] = []
        for r in 0...max(1, repeats) {
            let t0 = now()
            try trainer.step(input: x, labels: labels, rng: &rng)
            if r > 0 { ts.append(now() - t0) }
        }
        return TrainStep(algorithm: algorithm.rawValue, batch: batch, seconds: median(ts))
    }
}

import ArgumentParser
import Datasets
import Engine
import Foundation
import Pipeline
import SeafoldCore

/// `seafold bench data`: images/s decoded (16-bit PNG) and preprocessed to 3×224×224, the
/// time to generate the single-site synthetic preset in memory, and — over the real fine-tune
/// loop with full AlexNet at 224 px, batch 6 — the time the training step waited for its next
/// batch with the prefetch thread (depth 2) and without it (depth 0).
struct BenchDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Image decode+preprocess throughput and synthetic single-site generation time."
    )

    @Option(help: "Images in the temporary multi-site folder (256 px).")
    var images: Int = 118
    @Option(help: "Decode passes over the folder (the median is reported).")
    var passes: Int = 3
    @Option(help: "Network input size.")
    var inputSize: Int = 224
    @Flag(help: "Skip the single-site generation timing.")
    var skipGeneration = false
    @Option(help: "Training steps per prefetch setting in the data-wait measurement (0 skips it).")
    var trainSteps: Int = 16
    @Option(help: "Batch size of the data-wait measurement (the paper's 6).")
    var batchSize: Int = 6
    @Option(help: "Model width multiplier of the data-wait measurement (1 = full AlexNet).")
    var widthMultiplier: Double = 1
    @Option(help: "Engine threads of the data-wait measurement.")
    var threads: Int = 2
    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("seafold-bench-data-\(getpid())")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let options = SyntheticSAS.Options(preset: .multiSite, count: images, seed: 1)
        let root = try SyntheticSAS.write(try SyntheticSAS.generate(options), options: options, to: tmp)
        let folder = try ImageFolder(root: root, checkDuplicates: false)
        let pre = Preprocessor(inputSize: inputSize)
        var oneThread: [Double] = []
        for _ in 0..<max(passes, 1) {
            let t0 = Date()
            var checksum: Float = 0
            for s in folder.samples { checksum += pre.tensorData(try ImageLoader.load(s.url))[0] }
            oneThread.append(Double(folder.count) / Date().timeIntervalSince(t0))
            if !checksum.isFinite { throw SeafoldError.message("non-finite preprocessing output") }
        }
        // All cores: what a data-loading stage with one worker per core would sustain.
        var allCores: [Double] = []
        for _ in 0..<max(passes, 1) {
            let t0 = Date()
            DispatchQueue.concurrentPerform(iterations: folder.count) { i in
                _ = try? pre.tensorData(ImageLoader.load(folder.samples[i].url))
            }
            allCores.append(Double(folder.count) / Date().timeIntervalSince(t0))
        }
        let median = EngineBenchmark.median
        var genSeconds: Double? = nil
        if !skipGeneration {
            let t0 = Date()
            let s = try SyntheticSAS.generate(SyntheticSAS.Options(preset: .singleSite, seed: 1))
            genSeconds = Date().timeIntervalSince(t0)
            _ = s.count
        }
        // The training loop with the prefetch thread off (0) and on (DataPrefetch default).
        var loops: [DataPathBenchmark.Result] = []
        if trainSteps > 0 {
            BLASKernel.setThreads(max(threads, 1))
            for depth in [0, max(DataPrefetch.depth, 1)] {
                loops.append(try DataPathBenchmark.run(inputSize: inputSize, widthMultiplier: widthMultiplier, batchSize: batchSize,
                                                       steps: trainSteps, depth: depth))
            }
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if json {
            var obj: [String: Any] = ["images": folder.count, "imageSize": 256, "inputSize": inputSize,
                                      "decodePreprocessPerSecond1Thread": median(oneThread),
                                      "decodePreprocessPerSecondAllCores": median(allCores), "cores": cores]
            if let g = genSeconds { obj["singleSiteGenerateSeconds"] = g; obj["singleSiteImages"] = 2962 }
            if !loops.isEmpty {
                obj["trainingLoop"] = try loops.map { try JSONSerialization.jsonObject(with: JSONEncoder().encode($0)) }
            }
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "decode 16-bit PNG 256² + preprocess to 3×%d²: %.0f img/s (1 thread), %.0f img/s (%d cores) [median of %d]",
                         inputSize, median(oneThread), median(allCores), cores, passes))
            if let g = genSeconds { print(String(format: "synthetic single-site preset (2,962 × 80 px): %.1f s", g)) }
            for r in loops {
                print(String(format: "training loop %d px batch %d, %d steps, prefetch depth %d: next batch not ready %d of %d times, blocked %.4f s; time in next() %.4f s total, %.2f ms/step after the first; step %.3f s mean (%.1f s total); one batch's assembly alone %.2f ms",
                             r.inputSize, r.batchSize, r.steps, r.prefetchDepth, r.starved, r.items, r.starvedSeconds, r.dataWaitSeconds,
                             r.steadyWaitPerStepSeconds * 1000, r.stepSecondsMean, r.stepSecondsTotal, r.batchAssemblySeconds * 1000))
            }
        }
    }
}

import Classifiers
import Datasets
import Engine
import Explain
import Foundation
import Pipeline
import SeafoldCore

/// Projects a whole experiment's time (`seafold bench run`) from a few real steps at its shapes.
///
/// `UnitCosts.measure` times the real components at the config's shapes (model, input size,
/// batch sizes, classes, LIME settings): a fine-tune training step, a pretraining step,
/// eval-mode inference per image, one synthetic source image, one linear-head epoch per sample,
/// one LIME explanation and its segmentation; the heads and divergence tasks run in full
/// (`TaskRunner`, the planner's own specs) on random features/weights of the real shapes.
/// `project` then prices every task of the planner's real task graph with the sizes it will
/// see (fold sizes from the dataset's class counts and `StratifiedKFold`, epochs, steps) and
/// `ScheduleSimulation` schedules that graph on k workers.
public enum RunProjection {
    /// Measured seconds of the pieces every task is built from (per worker, `threads` threads).
    public struct UnitCosts: Codable, Sendable {
        public var threads: Int
        public var trainStepSeconds: Double
        public var pretrainStepSeconds: Double
        public var pretrainImageSeconds: Double
        public var inferenceImageSeconds: Double
        public var linearHeadSampleEpochSeconds: Double
        public var limeExplainSeconds: Double
        public var limeSegmentationSeconds: Double
        public var limeSegments: Int
        public var divergenceSeconds: Double
        /// Heads tasks measured in full, by "dataset/head".
        public var headSeconds: [String: Double]
    }

    /// One task of the graph with its projected duration.
    public struct TaskProjection: Codable, Sendable {
        public var id: String
        public var kind: String
        public var label: String
        public var seconds: Double
        public var dependencies: [String]
        public var priority: Int
        /// How the seconds were made up, for people.
        public var basis: String
    }

    /// Dataset summaries with the labels the config's synthetic datasets will have (class counts
    /// of the preset), without generating images. Real-image datasets are not supported here.
    public static func summaries(_ config: ExperimentConfig) throws -> [DatasetSummary] {
        try config.datasets.map { d in
            guard let name = d.synthetic, let preset = SyntheticSAS.Preset(rawValue: name) else {
                throw SeafoldError.config(key: "datasets[\(d.name)]", reason: "the projection needs synthetic datasets (class counts are known without the images)")
            }
            // The generator's own defaults fill a missing count (as `SyntheticPack.generate` does).
            let options = SyntheticSAS.Options(preset: preset, count: d.count, size: d.size)
            let counts = SyntheticSAS.classCounts(preset: preset, total: options.count)
            let labels = counts.enumerated().flatMap { [Int](repeating: $0.offset, count: $0.element) }
            return DatasetSummary(name: d.name, classes: SyntheticSAS.classes, labels: labels, hash: "projection-\(d.name)-\(options.count)")
        }
    }

    // MARK: measurement

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    static func median(_ a: [Double]) -> Double { a.isEmpty ? 0 : EngineBenchmark.median(a) }

    static func randomTensor(_ shape: [Int], _ rng: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.nextFloat() * 2 - 1 })
    }

    /// Measures the unit costs at `config`'s shapes: `steps` timed training steps (after one
    /// warm-up) for fine-tune and pretraining. `progress` narrates.
    public static func measure(_ config: ExperimentConfig, graph: TaskGraph, datasets: [DatasetSummary], steps: Int, threads: Int,
                               progress: (String) -> Void = { _ in }) throws -> UnitCosts {
        var rng = SeededGenerator(seed: 99)
        let s = config.model.inputSize
        let classes = datasets.map(\.classes.count).max() ?? 4

        progress("fine-tune training step (batch \(config.training.batchSize))")
        let b = config.training.batchSize
        let ftModel = try AlexNet(config: AlexNetConfig(config.model, numClasses: classes), seed: 1)
        let ftTrainer = try Trainer(model: ftModel, optimizer: Adam(lr: Float(config.training.lr)), trainable: nil)
        let x = randomTensor([b, 3, s, s], &rng), y = (0..<b).map { $0 % classes }
        var drop = SeededGenerator(seed: 5)
        var times: [Double] = []
        for i in 0...max(steps, 1) {
            let t = try seconds { try ftTrainer.step(input: x, labels: y, rng: &drop) }
            if i > 0 { times.append(t) }
        }
        let trainStep = median(times)

        progress("eval-mode inference (batch 32)")
        let x32 = randomTensor([32, 3, s, s], &rng)
        times = []
        for i in 0...2 { let t = try seconds { _ = try ftModel.penultimateFeatures(x32) }; if i > 0 { times.append(t) } }
        let inference = median(times) / 32

        var pretrainStep = 0.0, pretrainImage = 0.0
        if config.pretrained == "synthetic" {
            let p = config.pretraining
            progress("pretraining step (batch \(p.batchSize), \(min(p.classes, SyntheticSource.classes.count)) classes)")
            let kinds = min(p.classes, SyntheticSource.classes.count)
            let model = try AlexNet(config: AlexNetConfig(config.model, numClasses: kinds), seed: 2)
            let trainer = try Trainer(model: model, optimizer: Adam(lr: Float(p.lr)), trainable: nil)
            let xp = randomTensor([p.batchSize, 3, s, s], &rng), yp = (0..<p.batchSize).map { $0 % kinds }
            times = []
            for i in 0...max(steps / 2, 1) {
                let t = try seconds { try trainer.step(input: xp, labels: yp, rng: &drop) }
                if i > 0 { times.append(t) }
            }
            pretrainStep = median(times)
            let n = SyntheticSource.classes.count
            pretrainImage = try seconds { _ = try SyntheticSource.generate(count: n, size: s, seed: 3) } / Double(n)
        }

        progress("linear head epoch on 4096-d features")
        let hidden = config.model.hiddenWidth
        let rows = 600
        let feats = try FeatureMatrix(rows: rows, cols: hidden, values: (0..<(rows * hidden)).map { _ in rng.nextFloat() })
        let labels = (0..<rows).map { $0 % classes }
        var cfg = LinearHead.Config()
        cfg.batchSize = config.training.batchSize
        cfg.epochs = 2
        var hrng = SeededGenerator(seed: 4)
        let head = try LinearHead(inputDim: hidden, numClasses: classes, rng: &hrng, config: cfg)
        let headSeconds = try seconds { _ = try head.train(feats, labels: labels, epochOrder: { _ in Array(0..<rows) }) }
        let linearSampleEpoch = headSeconds / Double(2 * rows)

        var limeSeconds = 0.0, segSeconds = 0.0, segments = 0
        if config.lime.enabled, graph.tasks.contains(where: { $0.kind == .explain }) {
            let lime = config.lime
            progress("one LIME explanation (\(lime.numSamples) samples, \(lime.segmentation))")
            let image = ExplainBenchmark.syntheticImage(size: s)
            let segmentation: SegmentationMethod = lime.segmentation == "slic"
                ? .slic(SLIC(nSegments: lime.slicSegments, compactness: lime.slicCompactness))
                : .quickshift(Quickshift(kernelSize: lime.kernelSize, maxDist: lime.maxDist, ratio: lime.ratio))
            let explainer = LimeImageExplainer(kernelWidth: lime.kernelWidth, numSamples: lime.numSamples, batchSize: lime.batchSize,
                                               topLabels: min(5, classes), segmentation: segmentation,
                                               fallback: .slic(SLIC(nSegments: lime.slicSegments, compactness: lime.slicCompactness)),
                                               minimumSegments: 8, seed: 1)
            var seg: Segmentation?
            segSeconds = try seconds { seg = try explainer.segment(image) }
            segments = seg!.count
            let classify = ExplainTask.classifier(ftModel, size: s)
            limeSeconds = try seconds { _ = try explainer.explain(image, classifier: classify, labels: [0], segmentation: seg) }
        }

        // Divergence and heads: the real tasks, the planner's specs, random inputs of the real shapes.
        var divergence = 0.0
        if let dv = graph.tasks.first(where: { $0.kind == .divergence }) {
            progress("divergence task")
            let io = try BenchmarkIO()
            defer { io.remove() }
            let a = io.scratchDirectory.appendingPathComponent("ft.safetensors"), p = io.scratchDirectory.appendingPathComponent("pre.safetensors")
            try Safetensors.write(ftModel.stateDict(), metadata: [:], to: a)
            try Safetensors.write(try AlexNet(config: AlexNetConfig(config.model, numClasses: 1000), seed: 7).stateDict(), metadata: [:], to: p)
            io.inputs = ["ft_weights": a, "pretrained": p]
            divergence = try seconds { _ = try TaskRunner.run(spec: dv.spec, io: io) }
        }
        var heads: [String: Double] = [:]
        for ds in datasets {
            guard let shard0 = graph.tasks.first(where: { $0.kind == .heads && $0.spec.shard?.dataset == ds.name })?.spec.shard else { continue }
            let (train, test) = try foldSizes(ds, config: config, shard: shard0)
            let io = try BenchmarkIO()
            defer { io.remove() }
            var frng = SeededGenerator(seed: 8)
            func write(_ name: String, _ labels: [Int]) throws {
                // Non-negative (post-ReLU) features with a class-dependent block, so the SVM sees separable-ish data.
                var v = [Float](repeating: 0, count: labels.count * hidden)
                for (r, c) in labels.enumerated() {
                    for j in 0..<hidden { v[r * hidden + j] = frng.nextFloat() + (j % classes == c ? 0.5 : 0) }
                }
                let f = io.scratchDirectory.appendingPathComponent("features_\(name).npy"), l = io.scratchDirectory.appendingPathComponent("labels_\(name).npy")
                try NpyArray(shape: [labels.count, hidden], floats: v).write(to: f)
                try NpyArray(shape: [labels.count], ints: labels).write(to: l)
                io.inputs["features_\(name)"] = f; io.inputs["labels_\(name)"] = l
            }
            try write("train", train); try write("test", test)
            for t in graph.tasks where t.kind == .heads && t.spec.shard == shard0 && t.spec.model == .ft {
                progress("\(t.label) (\(train.count) train, \(test.count) test)")
                heads["\(ds.name)/\(t.spec.head?.rawValue ?? "?")"] = try seconds { _ = try TaskRunner.run(spec: t.spec, io: io) }
            }
        }
        return UnitCosts(threads: threads, trainStepSeconds: trainStep, pretrainStepSeconds: pretrainStep, pretrainImageSeconds: pretrainImage,
                         inferenceImageSeconds: inference, linearHeadSampleEpochSeconds: linearSampleEpoch, limeExplainSeconds: limeSeconds,
                         limeSegmentationSeconds: segSeconds, limeSegments: segments, divergenceSeconds: divergence, headSeconds: heads)
    }

    /// Train and test labels of one fold (the split every task of the shard uses).
    static func foldSizes(_ ds: DatasetSummary, config: ExperimentConfig, shard: ShardKey) throws -> (train: [Int], test: [Int]) {
        let s = try FoldSplits.split(config: config, dataset: ds, shard: shard)
        return (s.train.map { ds.labels[$0] }, s.test.map { ds.labels[$0] })
    }

    // MARK: projection

    /// Prices every task of `graph` with `costs` (see the type's comment for the model).
    public static func project(_ config: ExperimentConfig, graph: TaskGraph, datasets: [DatasetSummary], costs c: UnitCosts) throws -> [TaskProjection] {
        let byName = Dictionary(uniqueKeysWithValues: datasets.map { ($0.name, $0) })
        return try graph.tasks.map { t in
            var sec = 0.0, basis = ""
            var train: [Int] = [], test: [Int] = []
            if let shard = t.spec.shard, let ds = byName[shard.dataset] {
                (train, test) = try foldSizes(ds, config: config, shard: shard)
            }
            let nTr = Double(train.count), nTe = Double(test.count)
            switch t.kind {
            case .pretrain:
                if t.spec.pretrainedSource == .synthetic {
                    let p = config.pretraining
                    let kinds = min(p.classes, SyntheticSource.classes.count)
                    let n = kinds * p.imagesPerClass
                    let steps = p.epochs * ((n + p.batchSize - 1) / p.batchSize)
                    let gen = Double(n) * c.pretrainImageSeconds
                    sec = gen + Double(steps) * c.pretrainStepSeconds
                    basis = "\(steps) steps × \(fmt(c.pretrainStepSeconds)) s + \(n) images generated"
                }
            case .finetune:
                let steps = config.training.epochs * ((train.count + config.training.batchSize - 1) / config.training.batchSize)
                let inferred = nTr + 2 * nTe
                sec = Double(steps) * c.trainStepSeconds + inferred * c.inferenceImageSeconds
                basis = "\(steps) steps × \(fmt(c.trainStepSeconds)) s + \(Int(inferred)) images inferred"
            case .baseline:
                sec = (nTr + nTe) * c.inferenceImageSeconds + Double(config.training.epochs) * nTr * c.linearHeadSampleEpochSeconds
                basis = "\(Int(nTr + nTe)) images inferred + \(config.training.epochs) head epochs × \(train.count)"
            case .heads:
                let key = "\(t.spec.shard?.dataset ?? "")/\(t.spec.head?.rawValue ?? "")"
                sec = c.headSeconds[key] ?? 0
                basis = "measured in full (\(key))"
            case .divergence:
                sec = c.divergenceSeconds
                basis = "measured in full"
            case .explain:
                let lime = t.spec.lime ?? config.lime
                let ds = byName[t.spec.shard?.dataset ?? ""]
                let counts = (0..<(ds?.classes.count ?? 0)).map { k in test.filter { $0 == k }.count }
                let images = counts.reduce(0) { $0 + min($1, lime.imagesPerClass) }
                let perModel = 1 + (lime.stabilityRuns > 0 ? lime.stabilityRuns + 1 : 0)
                let perImage = c.limeSegmentationSeconds + 2 * (Double(perModel) * c.limeExplainSeconds + Double(c.limeSegments + 1) * c.inferenceImageSeconds)
                sec = Double(images) * perImage
                basis = "\(images) images × (segmentation + 2 models × (\(perModel) explanations + deletion curve))"
            }
            return TaskProjection(id: t.id, kind: t.kind.rawValue, label: t.label, seconds: sec, dependencies: t.dependencies, priority: t.priority, basis: basis)
        }
    }

    public static func jobs(_ tasks: [TaskProjection]) -> [ScheduleSimulation.Job] {
        tasks.enumerated().map { ScheduleSimulation.Job(id: $0.element.id, seconds: $0.element.seconds, dependencies: $0.element.dependencies,
                                                        priority: $0.element.priority, sequence: $0.offset) }
    }

    static func fmt(_ v: Double) -> String { String(format: "%.3g", v) }
}

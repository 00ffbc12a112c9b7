import Foundation
import SeafoldCore

/// What the planner needs to know about a prepared dataset (see `DatasetPack`).
public struct DatasetSummary: Codable, Equatable, Sendable {
    public var name: String
    public var classes: [String]
    public var labels: [Int]
    /// sha256 identifying the pack's contents.
    public var hash: String
    /// The test fold of each image when the dataset has a folds file.
    public var foldAssignment: [Int]?
    public init(name: String, classes: [String], labels: [Int], hash: String, foldAssignment: [Int]? = nil) {
        self.name = name; self.classes = classes; self.labels = labels; self.hash = hash; self.foldAssignment = foldAssignment
    }
}

/// The experiment's task graph, pure data: what `Planner.plan` returns.
public struct TaskGraph: Codable, Equatable, Sendable {
    public var tasks: [PlannedTask]
    public func task(_ id: String) -> PlannedTask? { tasks.first { $0.id == id } }
}

/// Turns an experiment config into its task graph: pretrain (unless weights are given), then per
/// dataset × variant × repeat × fold a fine-tune, a baseline, heads for each model, a divergence and
/// (for the configured folds of repeat 0) an explanation. Task ids derive from content (`PlannedTask`).
public enum Planner {
    public static func plan(_ config: ExperimentConfig, datasets: [DatasetSummary], pretrainedFileHash: String? = nil) throws -> TaskGraph {
        var tasks: [PlannedTask] = []
        let hashes = Dictionary(uniqueKeysWithValues: datasets.map { ($0.name, $0.hash) })

        // Pretrained weights: a user file, or a pretrain task (synthetic source task or seeded init).
        let pretrainedInput: PlannedInput
        let source: PretrainedSource
        switch config.pretrained {
        case PretrainedSource.synthetic.rawValue, PretrainedSource.random.rawValue:
            source = PretrainedSource(rawValue: config.pretrained)!
            let spec = PretrainSpec(seed: config.seed, network: config.model, source: source,
                                    pretraining: source == .synthetic ? config.pretraining : nil)
            let t = PlannedTask(kind: .pretrain, label: "pretrain (\(source.rawValue))", spec: .pretrain(spec), inputs: [TaskInputName: PlannedInput](), priority: 100, datasetHashes: hashes)
            tasks.append(t)
            pretrainedInput = .output(of: t, .weights)
        default:
            source = .file
            guard let h = pretrainedFileHash else {
                throw SeafoldError.config(key: "pretrained", reason: "weights file '\(config.pretrained)' was not imported")
            }
            pretrainedInput = .file(path: config.pretrained, hash: h)
        }

        for dc in config.datasets {
            guard let ds = datasets.first(where: { $0.name == dc.name }) else {
                throw SeafoldError.config(key: "datasets", reason: "dataset '\(dc.name)' was not prepared")
            }
            let data: [TaskInputName: PlannedInput] = [.images: .pack(ds.name, .packImages), .meta: .pack(ds.name, .packMeta)]
            let rule = FoldSplits.rule(config, dataset: dc)
            if rule == .file && ds.foldAssignment == nil {
                throw SeafoldError.config(key: "datasets", reason: "dataset '\(dc.name)' has a folds file that was not read")
            }
            for variant in dc.variants {
                for (rep, fold) in (0..<config.repeats).flatMap({ r in (0..<config.folds).map { (r, $0) } }) {
                    let shard = ShardKey(dataset: ds.name, variant: variant, fold: fold, repeat: rep)
                    let split = FoldSelection(shard: shard, folds: config.folds, rule: rule,
                                              assignment: rule == .file ? ds.foldAssignment : nil, datasetHash: ds.hash)
                    let network = NetworkTaskSpec(seed: config.seed, split: split, network: config.model, classes: ds.classes,
                                                  training: config.training, pretrainedSource: source)
                    var inputs = data
                    inputs[.pretrained] = pretrainedInput

                    let ft = PlannedTask(kind: .finetune, label: "finetune \(shard)", spec: .finetune(network), inputs: inputs, priority: 50, datasetHashes: hashes)
                    let bl = PlannedTask(kind: .baseline, label: "baseline \(shard)", spec: .baseline(network), inputs: inputs, priority: 40, datasetHashes: hashes)
                    tasks.append(ft)
                    tasks.append(bl)

                    for (model, producer) in [(ModelKind.ft, ft), (ModelKind.base, bl)] {
                        for headName in config.heads {
                            guard let head = HeadKind(rawValue: headName) else { continue }
                            let settings: HeadSettings
                            switch head {
                            case .knn: settings = .knn(config.knn)
                            case .svm: settings = .svm(config.svm)
                            case .fc:
                                var t = TrainingConfig()
                                t.lr = config.training.lr; t.batchSize = config.training.batchSize
                                t.headEpochs = config.training.headEpochs; t.epochs = config.training.headEpochs
                                settings = .fc(t)
                            case .output: settings = .output
                            }
                            let hs = HeadsSpec(seed: config.seed, shard: shard, model: model, settings: settings, classes: ds.classes)
                            let hin: [TaskInputName: PlannedInput] = [
                                .featuresTrain: .output(of: producer, .featuresTrain), .featuresTest: .output(of: producer, .featuresTest),
                                .labelsTrain: .output(of: producer, .labelsTrain), .labelsTest: .output(of: producer, .labelsTest),
                            ]
                            tasks.append(PlannedTask(kind: .heads, label: "\(headName) on \(model.rawValue) \(shard)", spec: .heads(hs),
                                                     inputs: hin, priority: head == .svm ? 12 : 10, datasetHashes: hashes))
                        }
                    }

                    let dv = DivergenceSpec(seed: config.seed, shard: shard, divergence: config.divergence)
                    tasks.append(PlannedTask(kind: .divergence, label: "divergence \(shard)", spec: .divergence(dv),
                                             inputs: [.ftWeights: .output(of: ft, .weights), .pretrained: pretrainedInput],
                                             priority: 20, datasetHashes: hashes))

                    if config.lime.enabled, config.lime.imagesPerClass > 0, rep == 0, config.lime.folds.isEmpty || config.lime.folds.contains(fold) {
                        let ex = ExplainSpec(seed: config.seed, split: split, network: config.model, classes: ds.classes,
                                             pretrainedSource: source, lime: config.lime)
                        var xin = data
                        xin[.masks] = .pack(ds.name, .packMasks)
                        xin[.ftWeights] = .output(of: ft, .weights)
                        xin[.baseHead] = .output(of: bl, .outputLayer)
                        xin[.pretrained] = pretrainedInput
                        tasks.append(PlannedTask(kind: .explain, label: "explain \(shard)", spec: .explain(ex), inputs: xin, priority: 30, datasetHashes: hashes))
                    }
                }
            }
        }
        return TaskGraph(tasks: tasks)
    }
}

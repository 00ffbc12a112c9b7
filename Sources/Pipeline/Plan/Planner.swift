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
        let source: String
        switch config.pretrained {
        case "synthetic", "random":
            source = config.pretrained
            var spec = TaskSpec(kind: .pretrain, seed: config.seed)
            spec.network = config.model
            spec.pretrainedSource = source
            if source == "synthetic" { spec.pretraining = config.pretraining }
            let t = PlannedTask(kind: .pretrain, label: "pretrain (\(source))", spec: spec, inputs: [:], priority: 100, datasetHashes: hashes)
            tasks.append(t)
            pretrainedInput = .task(id: t.id, name: "weights.safetensors")
        default:
            source = "file"
            guard let h = pretrainedFileHash else {
                throw SeafoldError.config(key: "pretrained", reason: "weights file '\(config.pretrained)' was not imported")
            }
            pretrainedInput = .file(path: config.pretrained, hash: h)
        }

        for dc in config.datasets {
            guard let ds = datasets.first(where: { $0.name == dc.name }) else {
                throw SeafoldError.config(key: "datasets", reason: "dataset '\(dc.name)' was not prepared")
            }
            let data: [String: PlannedInput] = [
                "images": .dataset(name: ds.name, file: "images.npy"),
                "meta": .dataset(name: ds.name, file: "meta.json"),
            ]
            let rule = FoldSplits.rule(config, dataset: dc)
            if rule == FoldSplits.file && ds.foldAssignment == nil {
                throw SeafoldError.config(key: "datasets", reason: "dataset '\(dc.name)' has a folds file that was not read")
            }
            for variant in dc.variants {
                for (rep, fold) in (0..<config.repeats).flatMap({ r in (0..<config.folds).map { (r, $0) } }) {
                    let shard = ShardKey(dataset: ds.name, variant: variant, fold: fold, repeat: rep)
                    var base = TaskSpec(kind: .finetune, seed: config.seed)
                    base.shard = shard
                    base.folds = config.folds
                    base.foldRule = rule
                    base.foldAssignment = rule == FoldSplits.file ? ds.foldAssignment : nil
                    base.network = config.model
                    base.classes = ds.classes
                    base.training = config.training
                    base.pretrainedSource = source
                    base.datasetHash = ds.hash
                    var inputs = data
                    inputs["pretrained"] = pretrainedInput

                    let ft = PlannedTask(kind: .finetune, label: "finetune \(shard)", spec: base, inputs: inputs, priority: 50, datasetHashes: hashes)
                    var bspec = base
                    bspec.kind = .baseline
                    let bl = PlannedTask(kind: .baseline, label: "baseline \(shard)", spec: bspec, inputs: inputs, priority: 40, datasetHashes: hashes)
                    tasks.append(ft)
                    tasks.append(bl)

                    for (model, producer) in [(ModelKind.ft, ft), (ModelKind.base, bl)] {
                        for headName in config.heads {
                            guard let head = HeadKind(rawValue: headName) else { continue }
                            var hs = TaskSpec(kind: .heads, seed: config.seed)
                            hs.shard = shard
                            hs.model = model
                            hs.head = head
                            hs.classes = ds.classes
                            switch head {
                            case .knn: hs.knn = config.knn
                            case .svm: hs.svm = config.svm
                            case .fc:
                                var t = TrainingConfig()
                                t.lr = config.training.lr; t.batchSize = config.training.batchSize
                                t.headEpochs = config.training.headEpochs; t.epochs = config.training.headEpochs
                                hs.training = t
                            case .output: break
                            }
                            var hin: [String: PlannedInput] = [:]
                            for f in ["features_train", "features_test", "labels_train", "labels_test"] {
                                hin[f] = .task(id: producer.id, name: "\(f).npy")
                            }
                            tasks.append(PlannedTask(kind: .heads, label: "\(headName) on \(model.rawValue) \(shard)", spec: hs,
                                                     inputs: hin, priority: head == .svm ? 12 : 10, datasetHashes: hashes))
                        }
                    }

                    var dv = TaskSpec(kind: .divergence, seed: config.seed)
                    dv.shard = shard
                    dv.divergence = config.divergence
                    tasks.append(PlannedTask(kind: .divergence, label: "divergence \(shard)", spec: dv,
                                             inputs: ["ft_weights": .task(id: ft.id, name: "weights.safetensors"), "pretrained": pretrainedInput],
                                             priority: 20, datasetHashes: hashes))

                    if config.lime.enabled, config.lime.imagesPerClass > 0, rep == 0, config.lime.folds.isEmpty || config.lime.folds.contains(fold) {
                        var ex = base
                        ex.kind = .explain
                        ex.training = nil
                        ex.lime = config.lime
                        var xin = data
                        xin["masks"] = .dataset(name: ds.name, file: "masks.npy")
                        xin["ft_weights"] = .task(id: ft.id, name: "weights.safetensors")
                        xin["base_head"] = .task(id: bl.id, name: "output_layer.safetensors")
                        xin["pretrained"] = pretrainedInput
                        tasks.append(PlannedTask(kind: .explain, label: "explain \(shard)", spec: ex, inputs: xin, priority: 30, datasetHashes: hashes))
                    }
                }
            }
        }
        return TaskGraph(tasks: tasks)
    }
}

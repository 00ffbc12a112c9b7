import Foundation

/// Which images of which dataset a shard task works on: the shard and how its fold is made
/// (`FoldSplits`), plus the pack's hash so a changed dataset changes every task that reads it.
public struct FoldSelection: Equatable, Sendable {
    public var shard: ShardKey
    public var folds: Int
    public var rule: FoldRule
    /// With the `file` rule: the test fold of every image of the pack, from the folds file.
    public var assignment: [Int]?
    /// sha256 of the dataset pack.
    public var datasetHash: String
    public init(shard: ShardKey, folds: Int, rule: FoldRule, assignment: [Int]?, datasetHash: String) {
        self.shard = shard; self.folds = folds; self.rule = rule; self.assignment = assignment; self.datasetHash = datasetHash
    }
}

/// Spec of a `pretrain` task: the network and the source of its weights (`random`: the seeded
/// PyTorch-default initialisation; `synthetic`: training on the synthetic source task).
public struct PretrainSpec: Equatable, Sendable {
    public var seed: UInt64
    public var network: ModelConfig
    public var source: PretrainedSource
    /// The synthetic source task's settings; set only for the `synthetic` source.
    public var pretraining: PretrainingConfig?
    public init(seed: UInt64, network: ModelConfig, source: PretrainedSource, pretraining: PretrainingConfig?) {
        self.seed = seed; self.network = network; self.source = source; self.pretraining = pretraining
    }
}

/// Spec of a `finetune` or `baseline` task (paper §3.1): the shard, the network trained from the
/// pretrained weights (every layer, or the output layer only) and its training settings.
public struct NetworkTaskSpec: Equatable, Sendable {
    public var seed: UInt64
    public var split: FoldSelection
    public var network: ModelConfig
    public var classes: [String]
    public var training: TrainingConfig
    public var pretrainedSource: PretrainedSource
    public init(seed: UInt64, split: FoldSelection, network: ModelConfig, classes: [String], training: TrainingConfig,
                pretrainedSource: PretrainedSource) {
        self.seed = seed; self.split = split; self.network = network; self.classes = classes; self.training = training
        self.pretrainedSource = pretrainedSource
    }
    public var shard: ShardKey { split.shard }
}

/// Spec of a `finetune` task: every layer trained (`NetworkTaskSpec`).
public typealias FineTuneSpec = NetworkTaskSpec
/// Spec of a `baseline` task: only the output layer trained (`NetworkTaskSpec`).
public typealias BaselineSpec = NetworkTaskSpec

/// A head's own settings (scikit-learn semantics for KNN and the linear SVM; the FC head is a
/// fresh linear layer trained with the fine-tune's lr and batch size for `headEpochs`).
public enum HeadSettings: Equatable, Sendable {
    case knn(KNNConfig)
    case svm(SVMConfig)
    case fc(TrainingConfig)
    /// The network's own output layer (reported by the network tasks, never a heads task).
    case output

    public var head: HeadKind {
        switch self {
        case .knn: return .knn
        case .svm: return .svm
        case .fc: return .fc
        case .output: return .output
        }
    }
}

/// Spec of a `heads` task: one head trained on one model's penultimate features of a shard.
public struct HeadsSpec: Equatable, Sendable {
    public var seed: UInt64
    public var shard: ShardKey
    public var model: ModelKind
    public var settings: HeadSettings
    public var classes: [String]
    public init(seed: UInt64, shard: ShardKey, model: ModelKind, settings: HeadSettings, classes: [String]) {
        self.seed = seed; self.shard = shard; self.model = model; self.settings = settings; self.classes = classes
    }
    public var head: HeadKind { settings.head }
}

/// Spec of a `divergence` task: layer-wise KL and Euclidean distance of the shard's fine-tuned
/// weights to the pretrained ones (paper §2.1, Table 3).
public struct DivergenceSpec: Equatable, Sendable {
    public var seed: UInt64
    public var shard: ShardKey
    public var divergence: DivergenceConfig
    public init(seed: UInt64, shard: ShardKey, divergence: DivergenceConfig) {
        self.seed = seed; self.shard = shard; self.divergence = divergence
    }
}

/// Spec of an `explain` task: LIME (lime_image semantics) on the shard's test images with Base
/// and FT, which it rebuilds from the pretrained weights and the two network tasks' outputs.
public struct ExplainSpec: Equatable, Sendable {
    public var seed: UInt64
    public var split: FoldSelection
    public var network: ModelConfig
    public var classes: [String]
    public var pretrainedSource: PretrainedSource
    public var lime: LimeConfig
    public init(seed: UInt64, split: FoldSelection, network: ModelConfig, classes: [String], pretrainedSource: PretrainedSource,
                lime: LimeConfig) {
        self.seed = seed; self.split = split; self.network = network; self.classes = classes
        self.pretrainedSource = pretrainedSource; self.lime = lime
    }
    public var shard: ShardKey { split.shard }
}

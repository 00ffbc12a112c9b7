import Foundation

/// Facts about a task that listings, estimates and the report's gaps show for any kind, read off
/// its typed spec (nil where the kind has no such fact).
extension TaskSpec {
    /// The model whose features a heads task reads.
    public var model: ModelKind? {
        if case let .heads(s) = self { return s.model }
        return nil
    }

    /// The head a heads task trains.
    public var head: HeadKind? {
        if case let .heads(s) = self { return s.head }
        return nil
    }

    /// Epochs of a network's training (fine-tune, baseline, pretrain on the synthetic source).
    public var trainingEpochs: Int? {
        switch self {
        case let .finetune(s), let .baseline(s): return s.training.epochs
        case let .pretrain(s): return s.pretraining?.epochs
        default: return nil
        }
    }

    /// Where the pretrained weights come from (every kind but heads and divergence).
    public var pretrainedSource: PretrainedSource? {
        switch self {
        case let .pretrain(s): return s.source
        case let .finetune(s), let .baseline(s): return s.pretrainedSource
        case let .explain(s): return s.pretrainedSource
        default: return nil
        }
    }

    /// The LIME settings of an explain task.
    public var lime: LimeConfig? {
        if case let .explain(s) = self { return s.lime }
        return nil
    }
}

import Foundation
import SeafoldCore

/// The stored form of a `TaskSpec`: one flat object whose keys are those a kind sets (absent keys
/// left out). Its canonical JSON is what task ids hash and the ledger keeps, so its fields,
/// their names and their order of meaning must not change (TaskIdentityTests).
struct TaskSpecWire: Codable {
    var kind: TaskKind
    var formatVersion: Int = TaskSpec.currentFormatVersion
    var seed: UInt64
    var shard: ShardKey?
    var folds: Int?
    var foldRule: FoldRule?
    var foldAssignment: [Int]?
    var model: ModelKind?
    var head: HeadKind?
    var network: ModelConfig?
    var classes: [String]?
    var training: TrainingConfig?
    var pretraining: PretrainingConfig?
    var pretrainedSource: PretrainedSource?
    var knn: KNNConfig?
    var svm: SVMConfig?
    var divergence: DivergenceConfig?
    var lime: LimeConfig?
    var datasetHash: String?

    init(_ spec: TaskSpec) {
        kind = spec.kind
        seed = spec.seed
        switch spec {
        case let .pretrain(s):
            network = s.network; pretrainedSource = s.source; pretraining = s.pretraining
        case let .finetune(s), let .baseline(s):
            setSplit(s.split)
            network = s.network; classes = s.classes; training = s.training; pretrainedSource = s.pretrainedSource
        case let .heads(s):
            shard = s.shard; model = s.model; head = s.head; classes = s.classes
            switch s.settings {
            case let .knn(c): knn = c
            case let .svm(c): svm = c
            case let .fc(t): training = t
            case .output: break
            }
        case let .divergence(s):
            shard = s.shard; divergence = s.divergence
        case let .explain(s):
            setSplit(s.split)
            network = s.network; classes = s.classes; pretrainedSource = s.pretrainedSource; lime = s.lime
        }
    }

    private mutating func setSplit(_ s: FoldSelection) {
        shard = s.shard; folds = s.folds; foldRule = s.rule; foldAssignment = s.assignment; datasetHash = s.datasetHash
    }

    /// The typed spec, or an error naming the field this kind needs and lacks.
    func typed() throws -> TaskSpec {
        guard formatVersion == TaskSpec.currentFormatVersion else {
            throw SeafoldError.config(key: "task.formatVersion",
                                      reason: "a \(kind.rawValue) task spec of format \(formatVersion); this seafold runs format \(TaskSpec.currentFormatVersion) (re-plan the run)")
        }
        switch kind {
        case .pretrain:
            let source = pretrainedSource ?? .synthetic
            guard source != .file else {
                throw SeafoldError.config(key: "task.pretrainedSource", reason: "a pretrain task makes 'random' or 'synthetic' weights, not 'file'")
            }
            return .pretrain(PretrainSpec(seed: seed, network: try need(network, "network"), source: source, pretraining: pretraining))
        case .finetune, .baseline:
            let s = NetworkTaskSpec(seed: seed, split: try split(), network: try need(network, "network"), classes: try need(classes, "classes"),
                                    training: try need(training, "training"), pretrainedSource: try need(pretrainedSource, "pretrainedSource"))
            return kind == .finetune ? .finetune(s) : .baseline(s)
        case .heads:
            let h = try need(head, "head")
            let settings: HeadSettings
            switch h {
            case .knn: settings = .knn(try need(knn, "knn"))
            case .svm: settings = .svm(try need(svm, "svm"))
            case .fc: settings = .fc(try need(training, "training"))
            case .output: settings = .output
            }
            return .heads(HeadsSpec(seed: seed, shard: try need(shard, "shard"), model: try need(model, "model"), settings: settings,
                                    classes: try need(classes, "classes")))
        case .divergence:
            return .divergence(DivergenceSpec(seed: seed, shard: try need(shard, "shard"), divergence: try need(divergence, "divergence")))
        case .explain:
            return .explain(ExplainSpec(seed: seed, split: try split(), network: try need(network, "network"), classes: try need(classes, "classes"),
                                        pretrainedSource: try need(pretrainedSource, "pretrainedSource"), lime: try need(lime, "lime")))
        }
    }

    private func split() throws -> FoldSelection {
        FoldSelection(shard: try need(shard, "shard"), folds: try need(folds, "folds"), rule: try need(foldRule, "foldRule"),
                      assignment: foldAssignment, datasetHash: try need(datasetHash, "datasetHash"))
    }

    private func need<T>(_ value: T?, _ field: String) throws -> T {
        guard let v = value else { throw SeafoldError.config(key: "task.\(field)", reason: "a \(kind.rawValue) task spec needs '\(field)'") }
        return v
    }
}

import Foundation

/// The name a task's output file (or a dataset pack's file) is stored under. The planner wires a
/// task's inputs to these names and the tasks write them, both through the constants below, so
/// a misspelt name does not compile instead of failing at run time as a missing input.
public struct ArtifactName: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A name made at run time (explain's per-image masks and figures).
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (a: ArtifactName, b: ArtifactName) -> Bool { a.rawValue < b.rawValue }

    /// Network weights (safetensors, torchvision key names): pretrain and fine-tune.
    public static let weights = ArtifactName("weights.safetensors")
    /// The baseline's trained output layer (classifier.6 only).
    public static let outputLayer = ArtifactName("output_layer.safetensors")
    /// Penultimate (4096-d) features and labels of a shard's train and test images.
    public static let featuresTrain = ArtifactName("features_train.npy")
    public static let featuresTest = ArtifactName("features_test.npy")
    public static let labelsTrain = ArtifactName("labels_train.npy")
    public static let labelsTest = ArtifactName("labels_test.npy")
    /// Explain's LIME explanations of every chosen image and model.
    public static let explanations = ArtifactName("explanations.json")

    /// Files of a prepared dataset pack (`DatasetPack`).
    public static let packImages = ArtifactName("images.npy")
    public static let packMeta = ArtifactName("meta.json")
    public static let packMasks = ArtifactName("masks.npy")
}

/// The name under which a task reads one of its inputs (`TaskIO.input`). Each is produced by
/// one planner wiring (`PlannedInput`) and consumed by one task; both use these constants.
public struct TaskInputName: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (a: TaskInputName, b: TaskInputName) -> Bool { a.rawValue < b.rawValue }

    /// The dataset pack's images, metadata and evidence masks.
    public static let images = TaskInputName(rawValue: "images")
    public static let meta = TaskInputName(rawValue: "meta")
    public static let masks = TaskInputName(rawValue: "masks")
    /// The pretrained weights (a pretrain task's `weights` or a user's file).
    public static let pretrained = TaskInputName(rawValue: "pretrained")
    /// The shard's fine-tuned weights and the baseline's output layer.
    public static let ftWeights = TaskInputName(rawValue: "ft_weights")
    public static let baseHead = TaskInputName(rawValue: "base_head")
    /// A network task's features and labels, read by the heads.
    public static let featuresTrain = TaskInputName(rawValue: "features_train")
    public static let featuresTest = TaskInputName(rawValue: "features_test")
    public static let labelsTrain = TaskInputName(rawValue: "labels_train")
    public static let labelsTest = TaskInputName(rawValue: "labels_test")
}

extension PlannedInput {
    /// Output `name` of the planned task `producer`.
    public static func output(of producer: PlannedTask, _ name: ArtifactName) -> PlannedInput {
        .task(id: producer.id, name: name.rawValue)
    }

    /// File `file` of the prepared dataset pack `dataset`.
    public static func pack(_ dataset: String, _ file: ArtifactName) -> PlannedInput {
        .dataset(name: dataset, file: file.rawValue)
    }
}

extension TaskIO {
    /// The local file of a named input.
    public func input(_ name: TaskInputName) throws -> URL { try input(name.rawValue) }
    /// True when the named input exists.
    public func hasInput(_ name: TaskInputName) -> Bool { hasInput(name.rawValue) }
    /// Where a task writes its output `name` before handing it back.
    public func outputURL(_ name: ArtifactName) -> URL { scratchDirectory.appendingPathComponent(name.rawValue) }
}

extension TaskOutput {
    /// A finished task's result JSON and its outputs by artifact name.
    public init(result: Data, outputs: [ArtifactName: URL]) {
        self.init(result: result, artifacts: Dictionary(uniqueKeysWithValues: outputs.map { ($0.key.rawValue, $0.value) }))
    }
}

extension PlannedTask {
    /// A task whose inputs are named by `TaskInputName` (the planner's form).
    public init(kind: TaskKind, label: String, spec: TaskSpec, inputs: [TaskInputName: PlannedInput], priority: Int,
                datasetHashes: [String: String]) {
        self.init(kind: kind, label: label, spec: spec, inputs: Dictionary(uniqueKeysWithValues: inputs.map { ($0.key.rawValue, $0.value) }),
                  priority: priority, datasetHashes: datasetHashes)
    }
}

extension TaskKind {
    /// The outputs every task of this kind writes, under these names (explain writes per-image
    /// masks and figures besides). Another task may only be wired to one of these.
    public var outputs: [ArtifactName] {
        switch self {
        case .pretrain: return [.weights]
        case .finetune: return [.weights, .featuresTrain, .featuresTest, .labelsTrain, .labelsTest]
        case .baseline: return [.outputLayer, .featuresTrain, .featuresTest, .labelsTrain, .labelsTest]
        case .explain: return [.explanations]
        case .heads, .divergence: return []
        }
    }
}

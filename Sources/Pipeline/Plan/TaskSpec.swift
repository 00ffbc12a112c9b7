import Hashing
import Foundation

/// The kinds of task in an experiment's graph (docs/ARCHITECTURE.md, "Tasks").
public enum TaskKind: String, Codable, CaseIterable, Sendable {
    case pretrain, finetune, baseline, heads, divergence, explain
}

/// Everything a task needs besides its input artifacts. Only the fields relevant to a task's
/// kind are set, so a task's id (a hash of this spec and its inputs) changes only when something
/// that task depends on changes: adding a head reuses every fine-tune.
public struct TaskSpec: Codable, Equatable, Sendable {
    public var kind: TaskKind
    public var formatVersion: Int = TaskSpec.currentFormatVersion
    public var seed: UInt64
    public var shard: ShardKey?
    public var folds: Int?
    /// How the folds are made (`FoldSplits`): "sklearn", "sklearn-unshuffled" or "file".
    public var foldRule: String?
    /// With the "file" rule: the test fold of every image of the pack, from the folds file.
    public var foldAssignment: [Int]?
    public var model: ModelKind?
    public var head: HeadKind?
    public var network: ModelConfig?
    public var classes: [String]?
    public var training: TrainingConfig?
    public var pretraining: PretrainingConfig?
    /// "random", "synthetic", or "file" (weights given as the `pretrained` input).
    public var pretrainedSource: String?
    public var knn: KNNConfig?
    public var svm: SVMConfig?
    public var divergence: DivergenceConfig?
    public var lime: LimeConfig?
    /// sha256 of the dataset pack, so a changed dataset changes every task that reads it.
    public var datasetHash: String?

    /// Bumped whenever a task's outputs would change for the same spec.
    public static let currentFormatVersion = 1

    public init(kind: TaskKind, seed: UInt64) { self.kind = kind; self.seed = seed }

    /// Canonical JSON (sorted keys), the form stored in the ledger and hashed into the id.
    public func encoded() -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return (try? enc.encode(self)) ?? Data()
    }

    public static func decode(_ data: Data) throws -> TaskSpec {
        try JSONDecoder().decode(TaskSpec.self, from: data)
    }
}

/// Where a task's named input comes from.
public enum PlannedInput: Codable, Equatable, Hashable, Sendable {
    /// Output `name` of another task.
    case task(id: String, name: String)
    /// A file of a prepared dataset pack (e.g. "images.npy").
    case dataset(name: String, file: String)
    /// A user's file (e.g. pretrained weights), imported into the artifact store.
    case file(path: String, hash: String)
}

/// One node of the task graph.
public struct PlannedTask: Codable, Equatable, Sendable {
    public var id: String
    public var kind: TaskKind
    public var label: String
    public var spec: TaskSpec
    public var inputs: [String: PlannedInput]
    public var dependencies: [String]
    /// Higher runs first among ready tasks: long tasks start early (critical path).
    public var priority: Int

    public init(kind: TaskKind, label: String, spec: TaskSpec, inputs: [String: PlannedInput], priority: Int,
                datasetHashes: [String: String]) {
        self.kind = kind; self.label = label; self.spec = spec; self.inputs = inputs; self.priority = priority
        self.dependencies = Array(Set(inputs.values.compactMap { if case let .task(id, _) = $0 { return id } else { return nil } })).sorted()
        // Id = sha256(spec, inputs with their identities), first 16 bytes as hex.
        let h = SHA256()
        h.update(data: spec.encoded())
        for key in inputs.keys.sorted() {
            h.update(data: Data(key.utf8))
            switch inputs[key]! {
            case let .task(id, name): h.update(data: Data("task:\(id):\(name)".utf8))
            case let .dataset(name, file): h.update(data: Data("dataset:\(datasetHashes[name] ?? name):\(file)".utf8))
            case let .file(_, hash): h.update(data: Data("file:\(hash)".utf8))
            }
        }
        self.id = SHA256.hex(h.finalize().prefix(16))
    }
}

/// sha256 of a file, hex. Used for dataset packs and user weights.
public func sha256Hex(of url: URL) throws -> String {
    let handle = try FileHandle(forReadingFrom: url)
    defer { try? handle.close() }
    let h = SHA256()
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { h.update(data: chunk) }
    return h.finalizeHex()
}

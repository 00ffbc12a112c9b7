import Hashing
import Foundation

/// The kinds of task in an experiment's graph (docs/ARCHITECTURE.md, "Tasks").
public enum TaskKind: String, Codable, CaseIterable, Sendable {
    case pretrain, finetune, baseline, heads, divergence, explain
}

/// Everything a task needs besides its input artifacts: one typed spec per kind
/// (`Contract/KindSpecs.swift`). Only what a task's kind depends on is in its spec, so a task's
/// id (a hash of this spec and its inputs) changes only when something that task depends on
/// changes: adding a head reuses every fine-tune. Stored (ledger, plan) as the canonical JSON of
/// `TaskSpecWire`, the flat form every run directory already holds.
public enum TaskSpec: Codable, Equatable, Sendable {
    case pretrain(PretrainSpec)
    case finetune(FineTuneSpec)
    case baseline(BaselineSpec)
    case heads(HeadsSpec)
    case divergence(DivergenceSpec)
    case explain(ExplainSpec)

    /// Bumped whenever a task's outputs would change for the same spec.
    public static let currentFormatVersion = 1

    public var kind: TaskKind {
        switch self {
        case .pretrain: return .pretrain
        case .finetune: return .finetune
        case .baseline: return .baseline
        case .heads: return .heads
        case .divergence: return .divergence
        case .explain: return .explain
        }
    }

    /// The experiment seed every random choice of the task derives from.
    public var seed: UInt64 {
        switch self {
        case let .pretrain(s): return s.seed
        case let .finetune(s), let .baseline(s): return s.seed
        case let .heads(s): return s.seed
        case let .divergence(s): return s.seed
        case let .explain(s): return s.seed
        }
    }

    /// The shard (dataset, variant, fold, repeat) of every task but pretrain.
    public var shard: ShardKey? {
        switch self {
        case .pretrain: return nil
        case let .finetune(s), let .baseline(s): return s.shard
        case let .heads(s): return s.shard
        case let .divergence(s): return s.shard
        case let .explain(s): return s.shard
        }
    }

    public func encode(to encoder: Encoder) throws { try TaskSpecWire(self).encode(to: encoder) }

    public init(from decoder: Decoder) throws { self = try TaskSpecWire(from: decoder).typed() }

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

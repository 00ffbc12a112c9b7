import Foundation

/// Result of a `finetune` task: its training curve and its output layer's test metrics.
public typealias FineTuneResult = NetworkResult
/// Result of a `baseline` task: its training curve and its output layer's test metrics.
public typealias BaselineResult = NetworkResult
/// Result of an `explain` task: one entry per explained test image.
public typealias ExplainResult = [ExplainedImage]

/// A finished task's result JSON decoded as its kind's result type.
public enum TaskResult: Equatable, Sendable {
    case pretrain(PretrainResult)
    case finetune(FineTuneResult)
    case baseline(BaselineResult)
    case heads(HeadsTaskResult)
    case divergence(DivergenceResult)
    case explain(ExplainResult)

    /// Decodes the result of `task`; `source` names where the bytes came from (a file, the ledger).
    /// Throws `UnreadableResult`, which names the task and the field that did not decode.
    public static func decode(_ data: Data, of task: PlannedTask, source: String?) throws -> TaskResult {
        let dec = JSONDecoder()
        do {
            switch task.kind {
            case .pretrain: return .pretrain(try dec.decode(PretrainResult.self, from: data))
            case .finetune: return .finetune(try dec.decode(FineTuneResult.self, from: data))
            case .baseline: return .baseline(try dec.decode(BaselineResult.self, from: data))
            case .heads: return .heads(try dec.decode(HeadsTaskResult.self, from: data))
            case .divergence: return .divergence(try dec.decode(DivergenceResult.self, from: data))
            case .explain: return .explain(try dec.decode(ExplainResult.self, from: data))
            }
        } catch {
            throw UnreadableResult(task: task, source: source, error: error)
        }
    }
}

/// A task's stored result that does not decode as its kind's result type: which task (id, kind,
/// label), where the bytes are, which field failed and why, and what fixes it.
public struct UnreadableResult: Error, CustomStringConvertible, Sendable {
    public var taskID: String
    public var kind: TaskKind
    public var label: String
    /// The file (or store) the result was read from; nil when unknown.
    public var source: String?
    /// Dotted path of the field that failed ("head.confusion"), "" for the document itself.
    public var field: String
    public var reason: String

    public init(task: PlannedTask, source: String?, error: Error) {
        taskID = task.id; kind = task.kind; label = task.label; self.source = source
        let what = UnreadableResult.explain(error)
        field = what.field; reason = what.reason
    }

    public var description: String {
        let place = field.isEmpty ? "" : " at field '\(field)'"
        return "the result of \(kind.rawValue) task '\(label)' (\(taskID)) in \(source ?? "its stored result JSON") does not decode\(place): \(reason); "
            + "run `seafold invalidate --task \(taskID.prefix(12))` to compute it again"
    }

    static func explain(_ error: Error) -> (field: String, reason: String) {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        guard let e = error as? DecodingError else { return ("", "\(error)") }
        switch e {
        case let .keyNotFound(key, c): return (path(c.codingPath + [key]), "the field is missing")
        case let .valueNotFound(type, c): return (path(c.codingPath), "expected \(type), found null")
        case let .typeMismatch(type, c): return (path(c.codingPath), "expected \(type): \(c.debugDescription)")
        case let .dataCorrupted(c): return (path(c.codingPath), c.debugDescription)
        @unknown default: return ("", "\(e)")
        }
    }
}

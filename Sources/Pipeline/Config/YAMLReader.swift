import Foundation
import SeafoldCore
import Yams

/// Reads one YAML mapping field by field, so that every error names the key path and line,
/// and keys nobody asked for are reported as unknown (a typo never passes silently).
struct YAMLReader {
    let node: Node
    let path: String
    private var used: Set<String> = []
    private let mapping: Node.Mapping
    /// Notes every key path asked for (the config reference's completeness check).
    let recorder: YAMLKeyRecorder?

    init(_ node: Node, path: String, recorder: YAMLKeyRecorder? = nil) throws {
        guard case let .mapping(m) = node else {
            throw SeafoldError.config(key: path.isEmpty ? "(top level)" : path, reason: "expected a mapping\(YAMLReader.at(node))")
        }
        self.node = node; self.path = path; self.mapping = m; self.recorder = recorder
    }

    static func at(_ node: Node) -> String { node.mark.map { " (line \($0.line))" } ?? "" }

    private func key(_ k: String) -> String { path.isEmpty ? k : "\(path).\(k)" }

    private mutating func value(_ k: String) -> Node? {
        used.insert(k)
        recorder?.keys.insert(key(k))
        for (kn, v) in mapping where kn.string == k { return v }
        return nil
    }

    private func isNull(_ n: Node) -> Bool { if case let .scalar(s) = n { return s.string == "~" || s.string == "null" || (s.string.isEmpty && s.style == .plain) }; return false }

    mutating func int(_ k: String, _ def: Int, min: Int? = nil) throws -> Int {
        guard let n = value(k) else { return def }
        guard let v = n.int else { throw SeafoldError.config(key: key(k), reason: "expected an integer\(Self.at(n)), found '\(n.string ?? "a collection")'") }
        if let min, v < min { throw SeafoldError.config(key: key(k), reason: "must be at least \(min)\(Self.at(n)), found \(v)") }
        return v
    }

    mutating func uint64(_ k: String, _ def: UInt64) throws -> UInt64 {
        guard let n = value(k) else { return def }
        guard let s = n.string, let v = UInt64(s) else { throw SeafoldError.config(key: key(k), reason: "expected a non-negative integer\(Self.at(n)), found '\(n.string ?? "a collection")'") }
        return v
    }

    mutating func double(_ k: String, _ def: Double, positive: Bool = false) throws -> Double {
        guard let n = value(k) else { return def }
        guard let v = n.float, v.isFinite else { throw SeafoldError.config(key: key(k), reason: "expected a number\(Self.at(n)), found '\(n.string ?? "a collection")'") }
        if positive && v <= 0 { throw SeafoldError.config(key: key(k), reason: "must be positive\(Self.at(n)), found \(v)") }
        return v
    }

    mutating func optionalDouble(_ k: String) throws -> Double? {
        guard let n = value(k), !isNull(n) else { return nil }
        guard let v = n.float, v.isFinite else { throw SeafoldError.config(key: key(k), reason: "expected a number\(Self.at(n)), found '\(n.string ?? "a collection")'") }
        return v
    }

    mutating func optionalInt(_ k: String, min: Int? = nil) throws -> Int? {
        guard let n = value(k), !isNull(n) else { return nil }
        guard let v = n.int else { throw SeafoldError.config(key: key(k), reason: "expected an integer\(Self.at(n)), found '\(n.string ?? "a collection")'") }
        if let min, v < min { throw SeafoldError.config(key: key(k), reason: "must be at least \(min)\(Self.at(n)), found \(v)") }
        return v
    }

    mutating func bool(_ k: String, _ def: Bool) throws -> Bool {
        guard let n = value(k) else { return def }
        guard let v = n.bool else { throw SeafoldError.config(key: key(k), reason: "expected true or false\(Self.at(n)), found '\(n.string ?? "a collection")'") }
        return v
    }

    mutating func string(_ k: String, _ def: String, oneOf: [String]? = nil) throws -> String {
        guard let n = value(k) else { return def }
        guard case let .scalar(s) = n else { throw SeafoldError.config(key: key(k), reason: "expected text\(Self.at(n))") }
        if let oneOf, !oneOf.contains(s.string) {
            throw SeafoldError.config(key: key(k), reason: "'\(s.string)' is not one of \(oneOf.joined(separator: ", "))\(Self.at(n))")
        }
        return s.string
    }

    mutating func optionalString(_ k: String, oneOf: [String]? = nil) throws -> String? {
        guard let n = value(k), !isNull(n) else { return nil }
        return try string(k, "", oneOf: oneOf)
    }

    mutating func stringList(_ k: String, _ def: [String], oneOf: [String]? = nil) throws -> [String] {
        guard let n = value(k) else { return def }
        guard case let .sequence(seq) = n else { throw SeafoldError.config(key: key(k), reason: "expected a list\(Self.at(n))") }
        return try seq.map { item in
            guard case let .scalar(s) = item else { throw SeafoldError.config(key: key(k), reason: "expected a list of text\(Self.at(item))") }
            if let oneOf, !oneOf.contains(s.string) {
                throw SeafoldError.config(key: key(k), reason: "'\(s.string)' is not one of \(oneOf.joined(separator: ", "))\(Self.at(item))")
            }
            return s.string
        }
    }

    mutating func intList(_ k: String, _ def: [Int]) throws -> [Int] {
        guard let n = value(k) else { return def }
        guard case let .sequence(seq) = n else { throw SeafoldError.config(key: key(k), reason: "expected a list\(Self.at(n))") }
        return try seq.map { item in
            guard let v = item.int else { throw SeafoldError.config(key: key(k), reason: "expected a list of integers\(Self.at(item))") }
            return v
        }
    }

    mutating func child(_ k: String) throws -> YAMLReader? {
        guard let n = value(k), !isNull(n) else { return nil }
        return try YAMLReader(n, path: key(k), recorder: recorder)
    }

    mutating func children(_ k: String) throws -> [YAMLReader]? {
        guard let n = value(k) else { return nil }
        guard case let .sequence(seq) = n else { throw SeafoldError.config(key: key(k), reason: "expected a list\(Self.at(n))") }
        return try seq.enumerated().map { try YAMLReader($0.element, path: "\(key(k))[\($0.offset)]", recorder: recorder) }
    }

    /// Fails on the first key that was never read: it is unknown here.
    func finish() throws {
        for (kn, _) in mapping {
            let name = kn.string ?? "?"
            if !used.contains(name) {
                let known = used.sorted().joined(separator: ", ")
                throw SeafoldError.config(key: key(name), reason: "unknown key\(Self.at(kn)); known keys here: \(known)")
            }
        }
    }
}

/// The key paths a parse asked for (see `YAMLReader.recorder`).
final class YAMLKeyRecorder {
    var keys: Set<String> = []
}

import Foundation
import TestSupport
import Yams

/// Reading the deployment files of this repository (docker/, cluster/) for the deployment
/// checks: the repository root, YAML documents as plain dictionaries, and Compose-style
/// `${VAR:-default}` interpolation. Parsing is Yams (YAML 1.1, multi-document).
enum DeploymentFiles {
    static func url(_ relative: String) -> URL { RepositoryFiles.url(relative) }

    static func text(_ relative: String) throws -> String {
        try String(contentsOf: url(relative), encoding: .utf8)
    }

    static func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: url(relative).path)
    }

    /// Every YAML document of a string, converted to plain Swift values (`[String: Any]`,
    /// `[Any]`, scalars). Empty documents are dropped. Throws on malformed YAML.
    static func documents(yaml: String) throws -> [Any] {
        let parser = try Parser(yaml: yaml)
        var result: [Any] = []
        while let node = try parser.nextRoot() {
            let value = plain(node.any)
            if !(value is NSNull) { result.append(value) }
        }
        return result
    }

    static func documents(file relative: String) throws -> [Any] {
        try documents(yaml: text(relative))
    }

    /// Yams gives mappings as `[AnyHashable: Any]`; the checks want `[String: Any]`.
    static func plain(_ value: Any) -> Any {
        if let map = value as? [AnyHashable: Any] {
            var out: [String: Any] = [:]
            for (k, v) in map { out[String(describing: k.base)] = plain(v) }
            return out
        }
        if let list = value as? [Any] { return list.map(plain) }
        return value
    }

    /// Compose-style interpolation with an empty environment: `${V:-d}`/`${V-d}` become d,
    /// `${V:?msg}`/`${V?msg}` become `required`, `${V}`/`$V` become "", `$$` becomes `$`.
    /// Enough to resolve the defaults the checks look at (paths, ports, names).
    static func interpolate(_ s: String, required: String = "REQUIRED") -> String {
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            let next = s.index(after: i)
            guard c == "$", next < s.endIndex else { out.append(c); i = next; continue }
            if s[next] == "$" { out.append("$"); i = s.index(after: next); continue }
            if s[next] == "{", let close = s[next...].firstIndex(of: "}") {
                let body = String(s[s.index(after: next)..<close])
                if let q = body.firstIndex(of: "?"), body.firstIndex(of: "-").map({ $0 > q }) ?? true {
                    out += required
                } else if let r = body.range(of: ":-") ?? body.range(of: "-") {
                    out += body[r.upperBound...]
                }
                i = s.index(after: close)
                continue
            }
            // $NAME: drop the name.
            var j = next
            while j < s.endIndex, s[j].isLetter || s[j].isNumber || s[j] == "_" { j = s.index(after: j) }
            if j == next { out.append(c) }
            i = j
        }
        return out
    }
}

/// Typed access into the plain YAML values: nil when absent or of another type, so that a
/// check can say precisely what is missing.
extension Dictionary where Key == String, Value == Any {
    func map(_ key: String) -> [String: Any]? { self[key] as? [String: Any] }
    func list(_ key: String) -> [Any]? { self[key] as? [Any] }
    func string(_ key: String) -> String? { scalarText(self[key]) }
    /// Follows a dotted path of mapping keys, e.g. "spec.template.metadata.labels".
    func at(_ path: String) -> Any? {
        var current: Any? = self
        for part in path.split(separator: ".") {
            current = (current as? [String: Any])?[String(part)]
        }
        return current
    }
    func mapAt(_ path: String) -> [String: Any]? { at(path) as? [String: Any] }
    func listAt(_ path: String) -> [Any]? { at(path) as? [Any] }
}

/// A YAML scalar as text (strings, numbers and booleans; nil for anything else).
func scalarText(_ any: Any?) -> String? {
    switch any {
    case let s as String: return s
    case let i as Int: return String(i)
    case let d as Double: return String(d)
    case let b as Bool: return String(b)
    default: return nil
    }
}

/// A list of scalars as strings (a command line); nil if it is not such a list.
func stringList(_ any: Any?) -> [String]? {
    guard let list = any as? [Any] else { return nil }
    let texts = list.compactMap(scalarText)
    return texts.count == list.count ? texts : nil
}

/// Labels as strings (a YAML label value such as `true` or `1` still compares as text).
func stringMap(_ any: Any?) -> [String: String]? {
    guard let map = any as? [String: Any] else { return nil }
    var out: [String: String] = [:]
    for (k, v) in map { out[k] = scalarText(v) ?? String(describing: v) }
    return out
}

/// Kubernetes quantities: "3Gi" → 3·2³⁰, "500m" → 0.5, "2" → 2; nil if malformed.
func kubernetesQuantity(_ text: String) -> Double? {
    let suffixes: [(String, Double)] = [
        ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776),
        ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("m", 1e-3),
    ]
    for (suffix, factor) in suffixes where text.hasSuffix(suffix) {
        guard let n = Double(text.dropLast(suffix.count)) else { return nil }
        return n * factor
    }
    return Double(text)
}

/// The value after `flag` in an argument list (`--flag VALUE` or `--flag=VALUE`).
func argument(_ flag: String, in args: [String]) -> String? {
    for (i, a) in args.enumerated() {
        if a == flag { return i + 1 < args.count ? args[i + 1] : nil }
        if a.hasPrefix(flag + "=") { return String(a.dropFirst(flag.count + 1)) }
    }
    return nil
}

/// Host and port of a ZeroMQ tcp endpoint ("tcp://host:5555", "tcp://*:5555").
func tcpEndpoint(_ endpoint: String) -> (host: String, port: Int)? {
    guard endpoint.hasPrefix("tcp://") else { return nil }
    let rest = endpoint.dropFirst("tcp://".count)
    guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]) else { return nil }
    return (String(rest[..<colon]), port)
}

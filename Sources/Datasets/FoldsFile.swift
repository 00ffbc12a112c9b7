import Foundation
import SeafoldCore

/// A folds file: CSV with the header `path,fold`, one row per image, `path` relative to the
/// dataset root with '/' separators (as `ImageFolder.Sample.relativePath`), `fold` the 0-based
/// test fold of that image — the `test_fold` array of scikit-learn's `PredefinedSplit`. Fields
/// may be double-quoted (RFC 4180) so paths can hold commas. Rows may come in any order; the
/// file maps path → fold, so no file order has to be agreed on.
public enum FoldsFile {
    /// The CSV text for `paths[i]` in test fold `folds[i]`, rows in the given (dataset) order.
    public static func render(paths: [String], folds: [Int]) -> String {
        var s = "path,fold\n"
        for (p, f) in zip(paths, folds) { s += "\(quote(p)),\(f)\n" }
        return s
    }

    /// Reads `url` and returns the test fold of each of `paths` (in that order). Every image must
    /// appear exactly once, every fold 0..<k must hold a test member of every class that has at
    /// least k images (a smaller class cannot; that is a warning, as scikit-learn's).
    public static func read(_ url: URL, paths: [String], labels: [Int], classes: [String], folds k: Int) throws -> (folds: [Int], warnings: [String]) {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw SeafoldError.io(path: url.path, reason: "cannot read the folds file: \(error.localizedDescription)")
        }
        return try parse(text, file: url.path, paths: paths, labels: labels, classes: classes, folds: k)
    }

    /// `read` on text already loaded; `file` names it in errors.
    public static func parse(_ text: String, file: String, paths: [String], labels: [Int], classes: [String], folds k: Int) throws -> (folds: [Int], warnings: [String]) {
        func fail(_ line: Int?, _ reason: String) -> SeafoldError {
            .badInput(path: file, reason: (line.map { "line \($0): " } ?? "") + reason)
        }
        let index = Dictionary(paths.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        var out = [Int](repeating: -1, count: paths.count)
        var sawHeader = false
        // "\r\n" is one Character in Swift, so split on any newline Character (LF, CRLF, CR).
        for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let lineNo = n + 1
            let line = String(raw)
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let fields = fieldsOf(line), fields.count == 2 else {
                throw fail(lineNo, "expected two fields `path,fold` (quote a path that holds a comma), found '\(line.prefix(120))'")
            }
            if !sawHeader {
                guard fields.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) == ["path", "fold"] else {
                    throw fail(lineNo, "the first line must be the header `path,fold`, found '\(line.prefix(120))'")
                }
                sawHeader = true
                continue
            }
            let path = fields[0]
            guard let i = index[path] else {
                let hint = paths.first.map { " (paths are relative to the dataset root, e.g. '\($0)')" } ?? ""
                throw fail(lineNo, "'\(path)' is not an image of this dataset\(hint)")
            }
            guard let f = Int(fields[1].trimmingCharacters(in: .whitespaces)), (0..<k).contains(f) else {
                throw fail(lineNo, "fold '\(fields[1])' of '\(path)' is not an integer in 0...\(k - 1) (folds are 0-based, and the experiment has folds: \(k))")
            }
            guard out[i] < 0 else { throw fail(lineNo, "'\(path)' appears a second time") }
            out[i] = f
        }
        guard sawHeader else { throw fail(nil, "the file is empty; expected the header `path,fold` and one row per image") }
        let absent = out.indices.filter { out[$0] < 0 }
        if !absent.isEmpty {
            let list = absent.prefix(5).map { "'\(paths[$0])'" }.joined(separator: ", ")
            throw fail(nil, "\(absent.count) image(s) of the dataset have no fold, e.g. \(list); give every image a row")
        }
        var counts = [[Int]](repeating: [Int](repeating: 0, count: classes.count), count: k)
        var total = [Int](repeating: 0, count: classes.count)
        for (i, f) in out.enumerated() { counts[f][labels[i]] += 1; total[labels[i]] += 1 }
        var warnings: [String] = []
        for f in 0..<k {
            guard counts[f].reduce(0, +) > 0 else { throw fail(nil, "fold \(f) has no images; every fold 0...\(k - 1) needs a test part") }
            for c in classes.indices where counts[f][c] == 0 {
                if total[c] >= k {
                    throw fail(nil, "class '\(classes[c])' is missing from the test part of fold \(f) although it has \(total[c]) images; a stratified split puts every class in every fold")
                } else {
                    warnings.append("class '\(classes[c])' has \(total[c]) images, fewer than the \(k) folds, so fold \(f) tests none")
                }
            }
        }
        return (out, warnings)
    }

    static func quote(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// The fields of one CSV line (RFC 4180 quoting); nil when a quote is left open.
    static func fieldsOf(_ line: String) -> [String]? {
        var fields: [String] = [], cur = "", quoted = false, wasQuoted = false
        let it = Array(line)
        var i = 0
        while i < it.count {
            let ch = it[i]
            if quoted {
                if ch == "\"" {
                    if i + 1 < it.count, it[i + 1] == "\"" { cur.append("\""); i += 1 } else { quoted = false }
                } else { cur.append(ch) }
            } else if ch == "\"" && cur.isEmpty && !wasQuoted {
                quoted = true; wasQuoted = true
            } else if ch == "," {
                fields.append(cur); cur = ""; wasQuoted = false
            } else { cur.append(ch) }
            i += 1
        }
        if quoted { return nil }
        fields.append(cur)
        return fields
    }
}

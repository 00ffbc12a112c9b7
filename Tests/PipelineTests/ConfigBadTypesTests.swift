import Foundation
import TestSupport
import XCTest
@testable import Pipeline
import SeafoldCore

/// Bad-input corpus for the experiment config: every main key given every wrong type must give
/// a `SeafoldError.config` whose text names the key path, never a crash or a silent default.
final class ConfigBadTypesTests: XCTestCase {
    static let dataset = "datasets:\n  - {name: ms, synthetic: multi-site}\n"

    enum Kind { case int, uint, double, bool, text, choice, textList, intList, mapping }

    static let collections = ["[1, 2]", "{a: 1}"]
    static func wrong(_ k: Kind) -> [String] {
        switch k {
        case .int: return collections + ["three", "2.5", "true", "''", "~", "99999999999999999999999", "0x", "1e400"]
        case .uint: return collections + ["-1", "1.5", "abc", "18446744073709551616", "~"]
        case .double: return collections + ["abc", ".nan", ".inf", "-.inf", "true", "''", "1e400"]
        case .bool: return collections + ["maybe", "2", "''", "tru"]
        case .text: return collections + ["[]", "{}"]
        case .choice: return collections + ["nonsense", "''", "42"]
        case .textList: return ["svm", "{a: b}", "[[svm]]", "[{a: b}]", "[nonsense]", "42"]
        case .intList: return ["0", "[a]", "[[0]]", "{a: 1}", "[0.5]", "text"]
        case .mapping: return ["5", "[1]", "text", "[]", "true"]
        }
    }

    static let topLevel: [(String, Kind)] = [
        ("name", .text), ("seed", .uint), ("folds", .int), ("pretrained", .text), ("preset", .choice),
        ("heads", .textList), ("model", .mapping), ("pretraining", .mapping), ("training", .mapping),
        ("knn", .mapping), ("svm", .mapping), ("divergence", .mapping), ("lime", .mapping), ("report", .mapping),
    ]

    static let nested: [String: [(String, Kind)]] = [
        "model": [("architecture", .choice), ("width_multiplier", .double), ("input_size", .int), ("hidden_width", .int), ("dropout", .double)],
        "pretraining": [("classes", .int), ("images_per_class", .int), ("epochs", .int), ("lr", .double), ("batch_size", .int)],
        "training": [("optimizer", .choice), ("lr", .double), ("momentum", .double), ("weight_decay", .double), ("batch_size", .int),
                     ("epochs", .int), ("head_epochs", .int), ("base_dropout", .bool), ("checkpoint_every", .int), ("threads", .int)],
        "knn": [("k", .int)],
        "svm": [("c", .double), ("tolerance", .double)],
        "divergence": [("bins", .int), ("epsilon", .double), ("epsilon_on", .choice), ("include_biases", .bool), ("ddof", .int),
                       ("permutations", .int)],
        "lime": [("enabled", .bool), ("num_samples", .int), ("kernel_width", .double), ("batch_size", .int), ("segmentation", .choice),
                 ("kernel_size", .double), ("max_dist", .double), ("ratio", .double), ("slic_segments", .int),
                 ("slic_compactness", .double), ("images_per_class", .int), ("folds", .intList), ("explain", .choice),
                 ("stability_runs", .int), ("top_k", .int)],
        "report": [("minority_class", .text)],
    ]

    static let datasetKeys: [(String, Kind)] = [
        ("name", .text), ("path", .text), ("synthetic", .choice), ("count", .int), ("size", .int),
        ("difficulty", .double), ("variants", .textList), ("scaling", .choice),
    ]

    /// Parsing must throw a config error naming `key`; returns false (after recording) if not.
    @discardableResult
    func expectKeyError(_ text: String, key: String, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        do {
            _ = try ConfigLoader.parse(text)
            XCTFail("accepted:\n\(text)", file: file, line: line)
            return false
        } catch let e as SeafoldError {
            let s = e.description
            let ok = s.contains("'\(key)'")
            XCTAssertTrue(ok, "error for\n\(text)\ndoes not name '\(key)': \(s)", file: file, line: line)
            return ok
        } catch {
            XCTFail("not a SeafoldError for\n\(text)\n\(error)", file: file, line: line)
            return false
        }
    }

    func testEveryWrongTypeForTopLevelKeys() {
        var n = 0
        for (key, kind) in Self.topLevel {
            for v in Self.wrong(kind) {
                // `~` (null) means "not given" for optional keys and groups; skip those.
                if v == "~" && (kind == .mapping || key == "preset") { continue }
                expectKeyError("\(key): \(v)\n" + Self.dataset, key: key); n += 1
            }
        }
        XCTAssertGreaterThan(n, 70)
    }

    func testEveryWrongTypeForNestedKeys() {
        var n = 0
        for (group, keys) in Self.nested.sorted(by: { $0.key < $1.key }) {
            for (key, kind) in keys {
                for v in Self.wrong(kind) {
                    if v == "~" && group == "report" { continue }   // minority_class: ~ means none
                    expectKeyError("\(group):\n  \(key): \(v)\n" + Self.dataset, key: "\(group).\(key)"); n += 1
                }
            }
            expectKeyError("\(group):\n  no_such_key: 1\n" + Self.dataset, key: "\(group).no_such_key")
        }
        XCTAssertGreaterThan(n, 300)
    }

    func testEveryWrongTypeForDatasetKeys() {
        for (key, kind) in Self.datasetKeys {
            for v in Self.wrong(kind) where v != "~" {
                let other = key == "synthetic" ? "path: data" : (key == "path" ? "" : "synthetic: multi-site")
                let name = key == "name" ? "" : "name: ms, "
                let text = "datasets:\n  - {\(name)\(other.isEmpty ? "" : other + ", ")\(key): \(v)}\n"
                expectKeyError(text, key: "datasets[0].\(key)")
            }
        }
        for v in ["{}", "5", "text", "[5]", "[[a]]", "[]", "[text]", "{name: ms}"] {
            expectKeyError("datasets: \(v)\n", key: v == "[5]" || v == "[[a]]" || v == "[text]" ? "datasets[0]" : "datasets")
        }
        expectKeyError("datasets:\n  - {name: ms}\n", key: "datasets[0]")                                         // neither path nor synthetic
        expectKeyError("datasets:\n  - {name: ms, path: d, synthetic: multi-site}\n", key: "datasets[0]")       // both
        expectKeyError("datasets:\n  - {name: ms, synthetic: multi-site, variants: []}\n", key: "datasets[0].variants")
        expectKeyError("datasets:\n  - {name: a, synthetic: multi-site}\n  - {name: a, synthetic: single-site}\n", key: "datasets")
        expectKeyError("datasets:\n  - {name: ms, synthetic: multi-site, typo: 1}\n", key: "datasets[0].typo")
    }

    func testOutOfRangeValues() {
        let cases: [(String, String)] = [
            ("folds: 1", "folds"), ("folds: -3", "folds"), ("model: {dropout: 1.0}", "model.dropout"),
            ("model: {dropout: -0.1}", "model.dropout"), ("model: {input_size: 10}", "model.input_size"),
            ("model: {width_multiplier: 0}", "model.width_multiplier"), ("training: {lr: -1}", "training.lr"),
            ("training: {batch_size: 0}", "training.batch_size"), ("knn: {k: 0}", "knn.k"), ("svm: {c: 0}", "svm.c"),
            ("lime: {num_samples: 1}", "lime.num_samples"), ("divergence: {ddof: -1}", "divergence.ddof"),
            ("divergence: {epsilon: -1e-10}", "divergence.epsilon"), ("divergence: {epsilon_on: bins}", "divergence.epsilon_on"),
            ("divergence: {permutations: -1}", "divergence.permutations"), ("lime: {explain: predicted}", "lime.explain"),
        ]
        for (c, k) in cases { expectKeyError(c + "\n" + Self.dataset, key: k) }
    }

    func testSyntaxErrorsAndOddDocuments() {
        let bad: [String] = [
            "", "   \n", "# only a comment\n", "- a\n- b\n", "just text", "42", "[unclosed\n", "{a: 1\n", "a: b: c\n",
            "folds: 3\n\tseed: 1\n", "*undefined_alias\n", "%YAML 9.9\n---\nfolds: 3\n", "a: !!binary not-base64\n",
            "\u{0}\u{1}\u{2}", "---\n...\n---\n", "? [a, b]\n: c\n" + Self.dataset, "folds: 3\nfolds: 4\n" + Self.dataset,
            "\u{FEFF}" + "folds: x\n" + Self.dataset, "&a [*a]\n",
        ]
        for t in bad {
            do {
                _ = try ConfigLoader.parse(t)
                // A duplicate key may be accepted (the first wins); nothing else here is a config.
                XCTAssertTrue(t.hasPrefix("folds: 3\nfolds: 4"), "accepted:\n\(t)")
            } catch let e as SeafoldError {
                XCTAssertTrue(e.description.contains("config key '"), "\(e)")
            } catch {
                XCTFail("not a SeafoldError for \(t.debugDescription): \(error)")
            }
        }
    }

    func testDeepNestingIsAnErrorNotAStackOverflow() {
        for depth in [200, 5_000] {
            let t = "lime:\n  folds: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n" + Self.dataset
            XCTAssertThrowsError(try ConfigLoader.parse(t))
            let m = "model: " + String(repeating: "{a: ", count: depth) + "1" + String(repeating: "}", count: depth) + "\n" + Self.dataset
            XCTAssertThrowsError(try ConfigLoader.parse(m))
        }
    }

    func testLoadNamesTheFileAndTheKey() throws {
        let url = try makeTemporaryDirectory("seafold-bad").appendingPathComponent("config.yaml")
        try ("training:\n  epochs: many\n" + Self.dataset).write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ConfigLoader.load(from: url)) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains(url.path) && s.contains("'training.epochs'") && s.contains("line 2"), s)
        }
        try Data([0xff, 0xfe, 0x00, 0x41]).write(to: url)
        XCTAssertThrowsError(try ConfigLoader.load(from: url)) { XCTAssertTrue("\($0)".contains(url.path), "\($0)") }
        XCTAssertThrowsError(try ConfigLoader.load(from: URL(fileURLWithPath: "/nonexistent/x.yaml"))) {
            XCTAssertTrue("\($0)".contains("/nonexistent/x.yaml"), "\($0)")
        }
    }
}

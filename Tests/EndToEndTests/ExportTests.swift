import Foundation
import TestSupport
import XCTest

/// `seafold export` on a real smoke run: the tidy CSV's per-group means equal the report's
/// table CSVs, and the predictions name their classes and images.
final class ExportTests: XCTestCase {
    /// A simple CSV (no quoted commas in these files) as header-keyed rows.
    func rows(_ url: URL) throws -> [[String: String]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first else { return [] }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    func means(_ rs: [[String: String]], key: [String]) -> [String: Double] {
        var sums: [String: (Double, Int)] = [:]
        for r in rs {
            guard let v = Double(r["value"] ?? "") else { continue }
            let k = key.map { r[$0] ?? "" }.joined(separator: "|")
            sums[k, default: (0, 0)].0 += v
            sums[k, default: (0, 0)].1 += 1
        }
        return sums.mapValues { $0.0 / Double($0.1) }
    }

    func testExportMatchesTheTablesAndNamesClasses() throws {
        let run = try makeTemporaryDirectory("seafold-e2e-export")
        let r = try CLI.run(["run", "--preset", "smoke", "--run-dir", run.path, "--local"], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        let e = try CLI.run(["export", "--run-dir", run.path])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(e.stdout.contains("metrics.csv"), e.stdout)
        let metrics = try rows(run.appendingPathComponent("export/metrics.csv"))
        XCTAssertFalse(metrics.isEmpty)
        XCTAssertEqual(Set(metrics.map { $0["run"] ?? "" }), [run.lastPathComponent])

        // Table 1: accuracy per dataset/variant/model/head.
        let t1 = try rows(run.appendingPathComponent("report/tables/table1.csv"))
        let key = ["dataset", "variant", "model", "head"]
        let tableMeans = means(t1, key: key)
        let tidyMeans = means(metrics.filter { $0["metric"] == "accuracy" }, key: key)
        XCTAssertFalse(tableMeans.isEmpty)
        for (k, v) in tableMeans { XCTAssertEqual(tidyMeans[k] ?? .nan, v, accuracy: 1e-12, k) }
        // Table 3: divergence per dataset/variant/layer; the tidy metric is "kl:conv1".
        let t3 = try rows(run.appendingPathComponent("report/tables/table3.csv"))
        let t3Means = means(t3.map { var x = $0; x["metric"] = "\($0["metric"] ?? ""):\($0["layer"] ?? "")"; return x },
                            key: ["dataset", "variant", "metric"])
        let tidy3 = means(metrics.filter { ($0["metric"] ?? "").hasPrefix("kl:") || ($0["metric"] ?? "").hasPrefix("euclidean:") },
                          key: ["dataset", "variant", "metric"])
        XCTAssertFalse(t3Means.isEmpty)
        for (k, v) in t3Means { XCTAssertEqual(tidy3[k] ?? .nan, v, accuracy: 1e-12 * max(1, abs(v)), k) }

        // Predictions: class names (not indices) and each shard's image files.
        let preds = try rows(run.appendingPathComponent("export/predictions.csv"))
        XCTAssertFalse(preds.isEmpty)
        let classes = Set(preds.map { $0["true_class"] ?? "" })
        XCTAssertTrue(classes.allSatisfy { !$0.isEmpty && Int($0) == nil }, "\(classes)")
        XCTAssertTrue(preds.allSatisfy { !($0["image"] ?? "").isEmpty && Int($0["image_index"] ?? "") != nil }, "every image named")
        // Accuracy recomputed from the predictions equals the tidy accuracy of each head and fold.
        let groups = Dictionary(grouping: preds) { [$0["dataset"]!, $0["variant"]!, $0["fold"]!, $0["model"]!, $0["head"]!].joined(separator: "|") }
        let acc = means(metrics.filter { $0["metric"] == "accuracy" }, key: ["dataset", "variant", "fold", "model", "head"])
        for (k, rs) in groups {
            let correct = Double(rs.filter { $0["correct"] == "true" }.count) / Double(rs.count)
            XCTAssertEqual(acc[k] ?? .nan, correct, accuracy: 1e-12, k)
        }

        let bad = try CLI.run(["export", "--run-dir", run.appendingPathComponent("no-such-run").path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("no-such-run"), bad.stderr)
    }
}

import Foundation
import TestSupport
import XCTest

/// Folds files and repeated cross-validation through the real CLI.
final class FoldsAndRepeatsTests: XCTestCase {
    func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    /// `data folds` writes what `data inspect --json` reports for the same seed, and the file reads
    /// back (`--folds-file`, `folds: FILE` in a run) to the same membership.
    func testFoldsFileRoundTripsThroughInspectAndARun() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-foldsfile")
        let data = dir.appendingPathComponent("data")
        let s = try CLI.run(["data", "synth", "--preset", "multi-site", "--count", "24", "--size", "32", "--seed", "3", "--out", data.path])
        XCTAssertEqual(s.status, 0, s.stderr)
        let root = data.appendingPathComponent("images").path
        let folds = dir.appendingPathComponent("folds.csv")
        let f = try CLI.run(["data", "folds", root, "--folds", "3", "--seed", "11", "--out", folds.path])
        XCTAssertEqual(f.status, 0, f.stderr)
        let seeded = try json(CLI.run(["data", "inspect", root, "--folds", "3", "--seed", "11", "--json"]).stdout)
        let fromFile = try json(CLI.run(["data", "inspect", root, "--folds", "3", "--folds-file", folds.path, "--json"]).stdout)
        let members = try XCTUnwrap(seeded["membership"] as? [[String: Any]])
        XCTAssertEqual(members.count, 24)
        let csvRows = try String(contentsOf: folds, encoding: .utf8).split(separator: "\n").dropFirst().map(String.init)
        XCTAssertEqual(csvRows, members.map { "\($0["path"]!),\($0["fold"]!)" })
        XCTAssertEqual((fromFile["membership"] as? NSArray), (seeded["membership"] as? NSArray))
        XCTAssertEqual((fromFile["foldTestCounts"] as? NSArray), (seeded["foldTestCounts"] as? NSArray))
        // Another seed gives another membership (the seed is used).
        let other = try json(CLI.run(["data", "inspect", root, "--folds", "3", "--seed", "12", "--json"]).stdout)
        XCTAssertNotEqual((other["membership"] as? NSArray), (seeded["membership"] as? NSArray))

        // A bad row: a clear error naming the file and the line.
        let bad = dir.appendingPathComponent("bad.csv")
        try (try String(contentsOf: folds, encoding: .utf8) + "craters/none.png,1\n").write(to: bad, atomically: true, encoding: .utf8)
        let e = try CLI.run(["data", "inspect", root, "--folds-file", bad.path])
        XCTAssertNotEqual(e.status, 0)
        XCTAssertTrue(e.stderr.contains("bad.csv") && e.stderr.contains("line 26") && e.stderr.contains("craters/none.png"), e.stderr)

        // A run with `folds: FILE` uses the file: its fold distribution is the file's.
        let cfg = dir.appendingPathComponent("x.yaml")
        try """
        preset: smoke
        heads: [knn]
        lime: {enabled: false}
        datasets:
          - {name: folder, path: data/images, folds: folds.csv, variants: [imbalanced]}
        """.write(to: cfg, atomically: true, encoding: .utf8)
        let run = dir.appendingPathComponent("run")
        let r = try CLI.run(["run", "--config", cfg.path, "--run-dir", run.path, "--local"], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        let results = try json(String(contentsOf: run.appendingPathComponent("report/results.json"), encoding: .utf8))
        let raw = try XCTUnwrap(results["results"] as? [String: Any], "results.json has no results")
        let dists = try XCTUnwrap(raw["foldDistributions"] as? [[String: Any]], "\(raw.keys.sorted())")
        XCTAssertEqual(dists.first?["counts"] as? NSArray, seeded["foldTestCounts"] as? NSArray)
    }

    /// `repeats: 2` runs 2 × 3 shards per column and the report has the repeated-CV tables with
    /// k·r cells and the corrected t-test.
    func testRepeatedCrossValidationSmokeRun() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-repeats")
        let cfg = dir.appendingPathComponent("x.yaml")
        try """
        preset: smoke
        repeats: 2
        heads: [knn]
        lime: {enabled: false}
        datasets:
          - {name: multi-site, synthetic: multi-site, count: 24, size: 64, variants: [imbalanced]}
        """.write(to: cfg, atomically: true, encoding: .utf8)
        let run = dir.appendingPathComponent("run")
        let r = try CLI.run(["run", "--config", cfg.path, "--run-dir", run.path, "--workers", "2"], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        let tables = run.appendingPathComponent("report/tables")
        let cells = try String(contentsOf: tables.appendingPathComponent("repeated_cv.csv"), encoding: .utf8)
        for model in ["FT", "Base"] {
            let rows = cells.split(separator: "\n").filter { $0.hasPrefix("multi-site,imbalanced,knn,accuracy,") && $0.contains(",\(model),") }
            XCTAssertEqual(rows.count, 3 * 2, "\(model): \(cells)")
            // Fields: dataset, variant, head, metric, class (empty for accuracy), repeat, fold, model, value.
            let cellIDs = rows.map { row -> String in
                let f = row.split(separator: ",", omittingEmptySubsequences: false)
                return "\(f[5])/\(f[6])"
            }
            XCTAssertEqual(Set(cellIDs), ["1/1", "1/2", "1/3", "2/1", "2/2", "2/3"])
        }
        let tests = try String(contentsOf: tables.appendingPathComponent("repeated_cv_tests.csv"), encoding: .utf8)
        let knn = try XCTUnwrap(tests.split(separator: "\n").first { $0.hasPrefix("multi-site,imbalanced,knn,accuracy,6,") }, tests)
        XCTAssertFalse(knn.isEmpty)
        let md = try String(contentsOf: tables.appendingPathComponent("repeated_cv.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("Nadeau & Bengio"), md)
        // The paper's Table 1 stays one cross-validation: 3 folds per model.
        let t1 = try String(contentsOf: tables.appendingPathComponent("table1.csv"), encoding: .utf8)
        XCTAssertEqual(t1.split(separator: "\n").filter { $0.hasPrefix("table1,multi-site,imbalanced,") && $0.contains(",FT,knn,") }.count, 3)
    }
}

import XCTest
import Pipeline
@testable import Report

final class TidyExportTests: XCTestCase {
    /// Rows of a simple CSV (the fixture has no quoted fields) as header-keyed dictionaries.
    func rows(_ csv: String) -> [[String: String]] {
        let lines = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first else { return [] }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }

    func testMetricsMeansEqualTheReportTables() throws {
        let r = Fixture.results()
        let a = Aggregate(r)
        let tidy = rows(TidyExport.metrics(r, run: "run1"))
        XCTAssertEqual(Array(TidyExport.metrics(r, run: "run1").split(separator: "\n")[0]).map(String.init).joined(),
                       "run,dataset,variant,fold,repeat,model,head,metric,value")
        XCTAssertTrue(tidy.allSatisfy { $0["run"] == "run1" && $0["repeat"] == "1" })
        // Table 1: every (column, model, head) mean of the tidy accuracy equals the table CSV's.
        var checked = 0
        let table1 = rows(CSVTables.table1(a)).filter { !($0["value"] ?? "").isEmpty }
        let groups = Dictionary(grouping: table1) { [$0["dataset"]!, $0["variant"]!, $0["model"]!, $0["head"]!] }
        for (key, rs) in groups {
            let t = tidy.filter { [$0["dataset"]!, $0["variant"]!, $0["model"]!, $0["head"]!] == key && $0["metric"] == "accuracy" }
            XCTAssertEqual(mean(t.compactMap { Double($0["value"]!) }), mean(rs.compactMap { Double($0["value"]!) }), accuracy: 1e-15, "\(key)")
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 10)
        // Table 3: KL of conv1 in column A (folds 1, 2: 0.5 and 1.0).
        let kl = tidy.filter { $0["dataset"] == "single-site" && $0["metric"] == "kl:conv1" }.compactMap { Double($0["value"]!) }
        XCTAssertEqual(kl, [0.5, 1.0])
        // Minority precision (Table 2) is "precision:crater".
        let p = tidy.filter { $0["dataset"] == "multi-site" && $0["model"] == "FT" && $0["head"] == "svm" && $0["metric"] == "precision:crater" }
        XCTAssertEqual(p.compactMap { Double($0["value"]!) }, [0.5, 0.5])
    }

    func testPredictionsCarryClassNamesAndImages() {
        let r = Fixture.results()
        let shard = Fixture.key(Fixture.colA, 0)
        let refs = (0..<10).map { TidyExport.ImageRef(index: 100 + $0, file: "img\($0).png") }
        let out = rows(TidyExport.predictions(r, run: "r", images: [shard: refs]))
        XCTAssertEqual(out.count, r.heads.map(\.labels.count).reduce(0, +))
        let first = out.first { $0["dataset"] == "single-site" && $0["fold"] == "1" && $0["model"] == "Base" && $0["head"] == "knn" }
        // Fixture: labels [0, 0, 0, 1, …], predictions [0, 1, 1, 0, …]; class 0 = crater.
        XCTAssertEqual(first?["image"], "img0.png")
        XCTAssertEqual(first?["image_index"], "100")
        XCTAssertEqual(first?["true_class"], "crater")
        XCTAssertEqual(first?["predicted_class"], "crater")
        XCTAssertEqual(first?["correct"], "true")
        let second = out.filter { $0["dataset"] == "single-site" && $0["fold"] == "1" && $0["model"] == "Base" && $0["head"] == "knn" }[1]
        XCTAssertEqual(second["predicted_class"], "rock")
        XCTAssertEqual(second["correct"], "false")
        // A shard without image names leaves them empty rather than guessing.
        XCTAssertTrue(out.filter { $0["dataset"] == "multi-site" }.allSatisfy { $0["image"] == "" && $0["image_index"] == "" })
    }
}

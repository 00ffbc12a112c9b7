import TestSupport
import XCTest
import Pipeline
@testable import Report

final class ReportWriterTests: XCTestCase {
    func testWritesAllFilesDeterministically() throws {
        let run = try Fixture.makeRunDirectory(removedAfter: self)
        let results = Fixture.results()
        let report = run.appendingPathComponent("report")
        let files = try ReportWriter.write(results, to: report, generatedAt: "2026-01-01T00:00:00Z")
        let names = files.all.map { $0.path.replacingOccurrences(of: report.path + "/", with: "") }
        for expected in ["index.html", "summary.md", "results.json", "tables/table1.md", "tables/table1.csv", "tables/table1.tex",
                         "tables/table2.md", "tables/table2.csv", "tables/table2.tex",
                         "tables/table3.md", "tables/table3.csv", "tables/table3.tex"] {
            XCTAssertTrue(names.contains(expected), expected)
            XCTAssertTrue(FileManager.default.fileExists(atPath: report.appendingPathComponent(expected).path), expected)
        }
        let first = try files.all.map { try Data(contentsOf: $0) }
        let again = try ReportWriter.write(results, to: report, generatedAt: "2026-01-01T00:00:00Z")
        let second = try again.all.map { try Data(contentsOf: $0) }
        XCTAssertEqual(first, second, "a rerun on the same RunResults must be byte-identical")
        // Only the header of index.html may depend on the time.
        let other = try ReportWriter.write(results, to: report, generatedAt: "2030-05-05T12:00:00Z")
        for (i, url) in other.all.enumerated() where url.lastPathComponent != "index.html" {
            XCTAssertEqual(try Data(contentsOf: url), first[i], url.lastPathComponent)
        }
        XCTAssertEqual(try String(contentsOf: files.summary, encoding: .utf8), MarkdownTables.render(results))
        if let dump = ProcessInfo.processInfo.environment["SEAFOLD_REPORT_DUMP"] {
            let dest = URL(fileURLWithPath: dump)
            try? FileManager.default.removeItem(at: dest)
            try FileManager.default.copyItem(at: run, to: dest)
        }
    }

    func testJSONHasEverythingWithSortedKeys() throws {
        let results = Fixture.results()
        let data = try JSONReport(results, aggregate: Aggregate(results)).encoded()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["softwareVersion"] as? String, "seafold 0.1.0-test")
        XCTAssertEqual(object["configYAML"] as? String, results.configYAML)
        XCTAssertEqual(object["ddof"] as? Int, 0)
        XCTAssertNotNil(object["results"]); XCTAssertNotNil(object["aggregate"])
        let decoded = try JSONDecoder().decode(JSONReport.self, from: data)
        XCTAssertEqual(decoded.results, results)
        XCTAssertEqual(decoded.aggregate.table3.filter { $0.cell.marked }.count, 4, "one largest per column × metric")
        let text = try XCTUnwrap(String(data: data, encoding: .utf8))
        let keys = ["aggregate", "columns", "configYAML", "ddof", "format", "minorityClass", "pairedTestCaveat", "results", "softwareVersion"]
        let positions = keys.map { text.range(of: "\n  \"\($0)\"")?.lowerBound }
        XCTAssertFalse(positions.contains(nil))
        XCTAssertEqual(positions.compactMap { $0 }, positions.compactMap { $0 }.sorted(), "top-level keys sorted")
    }
}

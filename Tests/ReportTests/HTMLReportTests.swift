import TestSupport
import XCTest
import Pipeline
@testable import Report

final class HTMLReportTests: XCTestCase {
    func render(runDirectory: URL?) -> String {
        let r = Fixture.results()
        return HTMLReport.render(r, aggregate: Aggregate(r), runDirectory: runDirectory, generatedAt: "2026-01-01 <now>")
    }

    /// Counts of opening and closing tags of the main elements must match.
    func testWellFormedEnoughAndComplete() throws {
        let run = try Fixture.makeRunDirectory(removedAfter: self)
        let html = render(runDirectory: run)
        for tag in ["html", "head", "body", "main", "section", "table", "thead", "tbody", "tr", "svg", "figure",
                    "details", "summary", "pre", "header", "nav", "ul", "li", "p", "h2", "h3", "title"] {
            let open = html.components(separatedBy: "<\(tag)>").count - 1 + html.components(separatedBy: "<\(tag) ").count - 1
            let close = html.components(separatedBy: "</\(tag)>").count - 1
            XCTAssertEqual(open, close, "<\(tag)> opened \(open) times, closed \(close)")
        }
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        for id in ["table1", "table2", "table3", "paired", "figure1", "figure2", "timeline", "missing", "curves", "divergence"] {
            XCTAssertTrue(html.contains("id=\"\(id)\""), id)
        }
        XCTAssertTrue(html.contains("<svg"))
        XCTAssertTrue(html.contains("80.00±</span><wbr><span class=\"nw\">8.16%"), "Table 1 value")
        XCTAssertTrue(html.contains("<strong><span class=\"nw\">13.500±</span><wbr><span class=\"nw\">4.500</span> <span class=\"nw\">(2/3)</span></strong>"), "Table 3 mark")
        // Escaping: the config's <demo & "test"> and the header time never appear raw.
        XCTAssertFalse(html.contains("<demo"))
        XCTAssertTrue(html.contains("name: &lt;demo &amp; &quot;test&quot;&gt;"))
        XCTAssertTrue(html.contains("generated 2026-01-01 &lt;now&gt;"))
        XCTAssertTrue(html.contains("heads &lt;FT&gt; &amp; knn"), "timeline labels escaped")
        // Images: the existing PNGs are embedded, the absent one is a gap with its reason.
        XCTAssertEqual(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1, 2)
        XCTAssertTrue(html.contains("Missing figure figures/absent.png: file not found"))
        XCTAssertFalse(html.contains("src=\"file:"), "self-contained: no links to local files")
        XCTAssertFalse(html.contains("http://") && html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"),
                       "no external resources")
        // Missing tasks listed with their reasons; the failed attempt is marked on the timeline.
        XCTAssertTrue(html.contains("failed: out of memory"))
        XCTAssertTrue(html.contains("class=\"bar failed\""))
        XCTAssertTrue(html.contains("bar running retry"), "second attempt of t2 is a retry, still running")
    }

    func testDeterministicAndOnlyHeaderCarriesTime() {
        let r = Fixture.results()
        let a = HTMLReport.render(r, aggregate: Aggregate(r), runDirectory: nil, generatedAt: "T1")
        let b = HTMLReport.render(r, aggregate: Aggregate(r), runDirectory: nil, generatedAt: "T1")
        XCTAssertEqual(a, b)
        let c = HTMLReport.render(r, aggregate: Aggregate(r), runDirectory: nil, generatedAt: nil)
        XCTAssertEqual(a.replacingOccurrences(of: " · generated T1", with: ""), c)
        XCTAssertEqual(MarkdownTables.render(r), MarkdownTables.render(r))
    }

    func testEmptyRunStillRenders() throws {
        let r = RunResults(configYAML: "", softwareVersion: "v", minorityClass: "crater", columns: ["a/b"])
        let html = HTMLReport.render(r, aggregate: Aggregate(r), runDirectory: nil, generatedAt: nil)
        XCTAssertTrue(html.contains("No timeline recorded."))
        let md = MarkdownTables.render(r)
        XCTAssertTrue(md.contains("| FT | — |"))
        let dir = try makeTemporaryDirectory("seafold-empty").appendingPathComponent("report")
        XCTAssertNoThrow(try ReportWriter.write(r, to: dir, generatedAt: nil))
    }

    func testNegativeDdofIsAConfigError() {
        var r = Fixture.results()
        r.ddof = -1
        XCTAssertThrowsError(try ReportWriter.write(r, to: FileManager.default.temporaryDirectory.appendingPathComponent("x"), generatedAt: nil)) {
            XCTAssertTrue("\($0)".contains("ddof"))
        }
    }
}

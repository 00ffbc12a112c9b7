import XCTest
import Pipeline
@testable import Report

/// The timeline draws each attempt by the ledger's outcome text (Cluster's `AttemptOutcome` raw
/// values: running, done, failed, lost, busy, refused, timed-out, cancelled).
final class TimelineChartTests: XCTestCase {
    func entry(_ id: String, _ outcome: String, end: Double? = 2) -> TimelineEntry {
        TimelineEntry(taskID: id, taskKind: "finetune", label: id, worker: "w1", start: 1, end: end, outcome: outcome)
    }

    /// The class of the bar drawn for the one attempt of task `id`.
    func barClass(_ svg: String, _ id: String) -> String? {
        guard let r = svg.range(of: "<title>\(id) [") else { return nil }
        let before = svg[..<r.lowerBound]
        guard let c = before.range(of: "class=\"", options: .backwards) else { return nil }
        return String(before[c.upperBound...].prefix { $0 != "\"" })
    }

    func testEveryLedgerOutcomeIsDrawnAsWhatItIs() {
        let cases: [(String, String)] = [
            ("done", "bar done"), ("failed", "bar failed"), ("lost", "bar failed"), ("timed-out", "bar failed"),
            ("busy", "bar ended"), ("refused", "bar ended"), ("cancelled", "bar ended"),
        ]
        let svg = TimelineChart.svg(cases.map { entry("t-\($0.0)", $0.0) } + [entry("t-running", "running", end: nil)])
        for (outcome, expected) in cases {
            XCTAssertEqual(barClass(svg, "t-\(outcome)"), expected, outcome)
        }
        XCTAssertEqual(barClass(svg, "t-running"), "bar running")
        // One ✕ per failed attempt: failed, lost, timed-out.
        XCTAssertEqual(svg.components(separatedBy: "class=\"failmark\"").count - 1, 3)
    }
}

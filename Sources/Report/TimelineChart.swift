import Foundation
import Pipeline

/// The run's timeline as inline SVG: one lane per worker, one bar per attempt from start to end
/// (still running: to the latest time seen, open-ended). Failed/lost attempts are red with a ✕;
/// a retry (a later attempt of a task that had an earlier one) has a dashed outline.
public enum TimelineChart {
    /// The ledger's attempt outcomes (Cluster's `AttemptOutcome` raw values) that are failures.
    static let failedOutcomes: Set<String> = ["failed", "lost", "timed-out"]

    public static func svg(_ entries: [TimelineEntry], width: Int = 900) -> String {
        guard !entries.isEmpty else { return "<p class=\"gap\">No timeline recorded.</p>" }
        let sorted = entries.sorted { ($0.start, $0.worker, $0.taskID) < ($1.start, $1.worker, $1.taskID) }
        let workers = Array(Set(sorted.map(\.worker))).sorted()
        let t0 = sorted.map(\.start).min() ?? 0
        let tLast = max(sorted.map { $0.end ?? $0.start }.max() ?? 1, sorted.map(\.start).max() ?? 1)
        // Leave room after the last time for attempts still running (open-ended bars).
        let stillRunning = sorted.contains { $0.end == nil }
        let tEnd = stillRunning ? tLast + max(tLast - t0, 1) * 0.08 : tLast
        let span = max(tEnd - t0, 1e-9)
        let left = 110.0, right = 16.0, top = 30.0, lane = 26.0
        let plotW = Double(width) - left - right
        let height = Int(top + lane * Double(workers.count) + 50)
        func x(_ t: Double) -> Double { left + (t - t0) / span * plotW }
        var attemptsSeen: [String: Int] = [:]
        var s = SVGCharts.svgOpen(width: width, height: height, title: "Timeline: tasks per worker (seconds from the first start)")
        for (i, w) in workers.enumerated() {
            let y = top + Double(i) * lane
            s += "<rect x=\"\(SVGCharts.f(left))\" y=\"\(SVGCharts.f(y))\" width=\"\(SVGCharts.f(plotW))\" height=\"\(SVGCharts.f(lane - 2))\" class=\"lane\"/>"
            s += "<text x=\"\(SVGCharts.f(left - 6))\" y=\"\(SVGCharts.f(y + lane / 2 + 3))\" text-anchor=\"end\">\(HTML.escape(w))</text>"
        }
        for e in sorted {
            guard let lane_ = workers.firstIndex(of: e.worker) else { continue }
            let attempt = (attemptsSeen[e.taskID] ?? 0) + 1
            attemptsSeen[e.taskID] = attempt
            let y = top + Double(lane_) * lane + 3
            let x1 = x(e.start), x2 = x(e.end ?? tEnd)
            let outcome = e.outcome.lowercased()
            let failed = TimelineChart.failedOutcomes.contains(outcome)
            let running = e.end == nil
            // An attempt the worker declined or the coordinator cancelled neither failed nor did the task.
            var cls = failed ? "bar failed" : (running ? "bar running" : (outcome == "done" ? "bar done" : "bar ended"))
            if attempt > 1 { cls += " retry" }
            let dur = e.end.map { SVGCharts.label($0 - e.start) + " s" } ?? "still running"
            let tip = "\(e.label) [\(e.taskKind)] on \(e.worker): \(e.outcome), attempt \(attempt), \(dur)"
            s += "<rect x=\"\(SVGCharts.f(x1))\" y=\"\(SVGCharts.f(y))\" width=\"\(SVGCharts.f(max(x2 - x1, 2)))\" height=\"\(SVGCharts.f(lane - 8))\" class=\"\(cls)\"><title>\(HTML.escape(tip))</title></rect>"
            // The task's label inside the bar when it fits (about 6 px per character).
            let room = Int((x2 - x1 - 6) / 6)
            if room >= 4 {
                let text = e.label.count <= room ? e.label : String(e.label.prefix(room - 1)) + "…"
                s += "<text x=\"\(SVGCharts.f(x1 + 3))\" y=\"\(SVGCharts.f(y + lane / 2))\" class=\"barlabel\">\(HTML.escape(text))</text>"
            }
            if failed {
                s += "<text x=\"\(SVGCharts.f(x2 + 2))\" y=\"\(SVGCharts.f(y + lane / 2))\" class=\"failmark\">✕</text>"
            }
        }
        let axisY = top + lane * Double(workers.count) + 14
        for i in 0...4 {
            let t = span * Double(i) / 4
            s += "<text x=\"\(SVGCharts.f(left + plotW * Double(i) / 4))\" y=\"\(SVGCharts.f(axisY))\" text-anchor=\"middle\">\(SVGCharts.label(t)) s</text>"
        }
        let ly = axisY + 20
        s += "<rect x=\"\(SVGCharts.f(left))\" y=\"\(SVGCharts.f(ly - 9))\" width=\"14\" height=\"10\" class=\"bar done\"/><text x=\"\(SVGCharts.f(left + 18))\" y=\"\(SVGCharts.f(ly))\">done</text>"
        s += "<rect x=\"\(SVGCharts.f(left + 80))\" y=\"\(SVGCharts.f(ly - 9))\" width=\"14\" height=\"10\" class=\"bar failed\"/><text x=\"\(SVGCharts.f(left + 98))\" y=\"\(SVGCharts.f(ly))\">failed / lost ✕</text>"
        s += "<rect x=\"\(SVGCharts.f(left + 210))\" y=\"\(SVGCharts.f(ly - 9))\" width=\"14\" height=\"10\" class=\"bar running\"/><text x=\"\(SVGCharts.f(left + 228))\" y=\"\(SVGCharts.f(ly))\">running</text>"
        s += "<rect x=\"\(SVGCharts.f(left + 310))\" y=\"\(SVGCharts.f(ly - 9))\" width=\"14\" height=\"10\" class=\"bar done retry\"/><text x=\"\(SVGCharts.f(left + 328))\" y=\"\(SVGCharts.f(ly))\">retry (dashed)</text>"
        return s + "</svg>"
    }
}

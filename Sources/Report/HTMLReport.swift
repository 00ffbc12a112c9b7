import Foundation
import Pipeline

/// HTML escaping for text and attribute values (& < > " ').
public enum HTML {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// A `Grid` as an HTML table: marks in <strong>, gaps as "—" with the reason as a tooltip
    /// and listed below the table.
    public static func table(_ g: Grid) -> String {
        var s = "<section class=\"table\" id=\"\(escape(g.id))\"><h3>\(escape(g.title))</h3>"
        for note in g.notes { s += "<p class=\"note\">\(escape(note))</p>" }
        // A wide table scrolls inside its own box instead of widening the page.
        s += "<div class=\"tablewrap\"><table><thead>"
        for row in g.header {
            // Column names like "single-site/imbalanced" may wrap after the slash.
            s += "<tr>" + row.map { h in
                "<th\(h.span > 1 ? " colspan=\"\(h.span)\"" : "")>\(escape(h.text).replacingOccurrences(of: "/", with: "/<wbr>"))</th>"
            }.joined() + "</tr>"
        }
        s += "</thead><tbody>"
        for section in g.sections {
            if let title = section.title {
                s += "<tr class=\"block\"><th colspan=\"\(g.columnCount)\">\(escape(title))</th></tr>"
            }
            for row in section.rows {
                s += "<tr>"
                for item in row {
                    let tag = item.isLabel ? "th" : "td"
                    var cls: [String] = []
                    if item.text == NumberFormat.dash { cls.append("gap") } else if item.note != nil { cls.append("partial") }
                    if item.bold { cls.append("best") }
                    let classAttr = cls.isEmpty ? "" : " class=\"\(cls.joined(separator: " "))\""
                    let title = item.note.map { " title=\"\(escape($0))\"" } ?? ""
                    let shown = item.isLabel ? escape(item.text) : breakable(escape(item.text))
                    let text = item.bold ? "<strong>\(shown)</strong>" : shown
                    s += "<\(tag)\(classAttr)\(title)>\(text)</\(tag)>"
                }
                s += "</tr>"
            }
        }
        s += "</tbody></table></div>"
        if !g.gaps.isEmpty {
            s += "<details class=\"gaps\"><summary>\(g.gaps.count) cell(s) with missing folds</summary><ul>"
            s += g.gaps.map { "<li>\(escape($0))</li>" }.joined() + "</ul></details>"
        }
        return s + "</section>\n"
    }

    /// A narrow window may break a value after "±" and before "(2/3)", never inside a number
    /// (Chrome would otherwise break "1.30e-02" at its minus sign).
    static func breakable(_ escaped: String) -> String {
        "<span class=\"nw\">" + escaped.replacingOccurrences(of: "±", with: "±</span><wbr><span class=\"nw\">")
            .replacingOccurrences(of: " (", with: "</span> <span class=\"nw\">(") + "</span>"
    }
}

/// `report/index.html`: one self-contained page (inline CSS, inline SVG, PNGs as data URIs) that
/// opens offline. Only the header carries a time, and only when `generatedAt` is given.
public enum HTMLReport {
    public static func render(_ results: RunResults, aggregate a: Aggregate, runDirectory: URL?, generatedAt: String?) -> String {
        var s = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        s += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        s += "<title>seafold report</title>\n<style>\n\(css)</style>\n</head>\n<body>\n"
        s += "<header><h1>seafold report</h1><p>\(HTML.escape(results.softwareVersion))"
        if let generatedAt { s += " · generated \(HTML.escape(generatedAt))" }
        s += " · columns: \(HTML.escape(a.columns.joined(separator: ", "))) · std ddof=\(a.ddof) · folds per column: \(a.foldCountText)"
        if !results.missing.isEmpty { s += " · <span class=\"warn\">\(results.missing.count) task(s) missing</span>" }
        s += "</p>\n<nav>" + [("config", "Config"), ("tables", "Tables"), ("significance", "FT vs Base"),
                              ("classes", "Per class"), ("figure2", "Folds"), ("figure1", "Examples"),
                              ("divergence", "Weights"), ("lime", "LIME"), ("curves", "Training"),
                              ("timeline", "Timeline"), ("missing", "Missing")]
            .map { "<a href=\"#\($0.0)\">\($0.1)</a>" }.joined(separator: " ") + "</nav></header>\n<main>\n"
        s += "<section id=\"config\"><h2>Config</h2><details open><summary>Experiment config (YAML)</summary><pre>\(HTML.escape(results.configYAML))</pre></details></section>\n"
        s += "<section id=\"tables\"><h2>Tables 1–3</h2>\n"
        s += HTML.table(TableGrids.table1(a)) + HTML.table(ChanceLevel.grid(a.chance)) + HTML.table(TableGrids.table2(a)) + HTML.table(TableGrids.table3(a))
        s += "</section>\n"
        s += "<section id=\"significance\"><h2>FT vs Base</h2>\n" + HTML.table(TableGrids.paired(a)) + "</section>\n"
        let repeated = RepeatedCV.entries(results)
        if !repeated.isEmpty {
            s += "<section id=\"repeated-cv\"><h2>Repeated cross-validation</h2>\n"
                + HTML.table(RepeatedCV.grid(repeated, ddof: results.ddof, minorityClass: results.minorityClass)) + "</section>\n"
        }
        s += HTMLSections.perClassAndConfusion(a)
        s += HTMLSections.foldDistributions(results)
        s += HTMLSections.contactSheets(results, runDirectory: runDirectory)
        s += HTMLSections.divergenceCharts(a) + WeightSignificanceFiles.html(a)
        s += HTMLSections.lime(results, aggregate: a, runDirectory: runDirectory)
        s += HTMLSections.curves(results.firstRepeat, columns: a.columns)
        s += "<section id=\"timeline\"><h2>Timeline</h2>\n" + TimelineChart.svg(results.timeline) + "\n</section>\n"
        s += HTMLSections.missing(results)
        s += "</main>\n<footer>seafold · \(HTML.escape(results.softwareVersion))</footer>\n</body>\n</html>\n"
        return s
    }

    static let css = """
    :root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --soft: #f6f8fa; --accent: #0969da; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; color: var(--fg); background: var(--bg); }
    header { padding: 16px 32px 8px; border-bottom: 1px solid var(--line); background: var(--soft); }
    header h1 { margin: 0 0 4px; font-size: 22px; }
    header p { margin: 0 0 6px; color: var(--muted); }
    nav a { margin-right: 12px; color: var(--accent); text-decoration: none; }
    main { padding: 8px 32px 32px; max-width: 1280px; }
    header p, .note, figcaption, pre { overflow-wrap: anywhere; }
    .tablewrap { max-width: 100%; overflow-x: auto; }
    svg.chart { max-width: 100%; height: auto; }
    .limelegend { font-size: 12px; }
    .swatch { display: inline-block; width: 12px; height: 12px; vertical-align: -2px; margin: 0 4px 0 6px; border: 1px solid #888; }
    h2 { margin-top: 32px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
    h3 { font-size: 15px; margin: 20px 0 6px; }
    .note { color: var(--muted); font-size: 12px; margin: 2px 0 8px; }
    table { border-collapse: collapse; margin: 6px 0 10px; font-variant-numeric: tabular-nums; }
    th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: right; white-space: nowrap; }
    td { white-space: normal; }
    .nw { white-space: nowrap; }
    thead th { border-bottom: 2px solid var(--fg); text-align: center; white-space: normal; }
    tbody th { text-align: left; font-weight: 600; }
    tr.block th { text-align: left; background: var(--soft); font-style: italic; }
    td.best strong { color: #0a3069; }
    td.gap { color: #cf222e; text-align: center; cursor: help; }
    td.partial { background: #fff8c5; cursor: help; }
    .gap { color: #cf222e; }
    .warn { color: #cf222e; font-weight: 600; }
    details.gaps { font-size: 12px; color: var(--muted); margin-bottom: 12px; }
    pre { background: var(--soft); border: 1px solid var(--line); padding: 10px; overflow: auto; font-size: 12px; white-space: pre-wrap; }
    .figures { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
    figure { margin: 0; border: 1px solid var(--line); padding: 8px; background: var(--bg); }
    figure { max-width: 100%; }
    figure img { max-width: 100%; image-rendering: pixelated; display: block; }
    figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; max-width: 520px; }
    svg.chart { font-size: 11px; background: #fff; border: 1px solid var(--line); margin: 4px 8px 8px 0; }
    svg .ctitle { font-weight: 600; font-size: 12px; }
    svg .grid { stroke: #eaeef2; }
    svg .gapbar { fill: none; stroke: #cf222e; stroke-dasharray: 3 2; }
    svg .lane { fill: var(--soft); }
    svg .bar.done { fill: #59a14f; }
    svg .bar.failed { fill: #e15759; }
    svg .bar.running { fill: #edc948; }
    svg .bar.ended { fill: #bab0ac; }
    svg .bar.retry { stroke: #1f2328; stroke-width: 1.5; stroke-dasharray: 4 2; }
    svg .barlabel { fill: #fff; font-size: 10px; pointer-events: none; }
    svg .failmark { fill: #cf222e; font-weight: 700; }
    table.confusion td { min-width: 36px; }
    table.confusion td.diag { background: #dafbe1; font-weight: 600; }
    footer { padding: 12px 32px; color: var(--muted); border-top: 1px solid var(--line); font-size: 12px; }

    """
}

import Foundation
import Pipeline

/// GitHub-flavoured Markdown tables (what `seafold report` prints to the terminal). Bold marks
/// the paper's best/largest values; each table states ddof and the fold count; no timestamps.
public enum MarkdownTables {
    /// All tables in one document: Tables 1–3, the paired tests, LIME scores and missing tasks.
    public static func render(_ results: RunResults) -> String {
        render(results, aggregate: Aggregate(results))
    }

    public static func render(_ results: RunResults, aggregate a: Aggregate) -> String {
        var out = "# seafold report\n\n"
        out += "Software: \(inline(results.softwareVersion)). Columns: \(a.columns.map(inline).joined(separator: ", ")). "
        out += "Minority class: \(inline(results.minorityClass)).\n\n"
        out += grid(TableGrids.table1(a)) + "\n"
        out += grid(ChanceLevel.grid(a.chance)) + "\n"
        out += grid(TableGrids.table2(a)) + "\n"
        out += grid(TableGrids.table3(a)) + "\n"
        out += grid(TableGrids.paired(a)) + "\n"
        out += WeightSignificanceFiles.markdown(a)
        if !a.lime.isEmpty { out += grid(TableGrids.lime(a)) + "\n" }
        out += missing(results)
        return out
    }

    /// One table as Markdown: "## title", notes, the table (one per section when sections have
    /// titles, as the paper's Table 1 has one block per head), then the gaps.
    public static func grid(_ g: Grid) -> String {
        var out = "## \(inline(g.title))\n\n"
        for note in g.notes { out += "_\(inline(note))_\n\n" }
        let head = "| " + g.flatHeader.map(cellText).joined(separator: " | ") + " |\n"
        let rule = "|" + g.flatHeader.indices.map { i in i == 0 || g.sections.first?.rows.first?[i].isLabel == true ? "---|" : "---:|" }.joined() + "\n"
        let titled = g.sections.contains { $0.title != nil }
        if !titled { out += head + rule }
        for section in g.sections {
            if let title = section.title { out += "**\(inline(title))**\n\n" + head + rule }
            for row in section.rows {
                out += "| " + row.map { item in
                    let t = cellText(item.text)
                    return item.bold ? "**\(t)**" : t
                }.joined(separator: " | ") + " |\n"
            }
            if titled { out += "\n" }
        }
        if !titled { out += "\n" }
        if !g.gaps.isEmpty {
            out += "Gaps:\n\n" + g.gaps.map { "- \(inline($0))\n" }.joined() + "\n"
        }
        return out
    }

    static func missing(_ results: RunResults) -> String {
        guard !results.missing.isEmpty else { return "## Missing tasks\n\nNone: every task has a result.\n" }
        var out = "## Missing tasks (\(results.missing.count))\n\n| Task | Shard | Detail | Reason |\n|---|---|---|---|\n"
        for m in sortedMissing(results.missing) {
            out += "| \(cellText(m.taskKind)) | \(cellText(m.shard?.description ?? "(run)")) | \(cellText(m.detail)) | \(cellText(m.reason)) |\n"
        }
        return out
    }

    static func sortedMissing(_ m: [MissingResult]) -> [MissingResult] {
        m.sorted { a, b in
            let ka = [a.shard?.description ?? "", a.taskKind, a.detail, a.reason]
            let kb = [b.shard?.description ?? "", b.taskKind, b.detail, b.reason]
            return ka.lexicographicallyPrecedes(kb)
        }
    }

    /// Text inside a table cell: pipes escaped, newlines flattened.
    static func cellText(_ s: String) -> String {
        inline(s).replacingOccurrences(of: "|", with: "\\|")
    }

    /// Text in running Markdown: newlines flattened, and characters that would start emphasis
    /// or HTML escaped.
    static func inline(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "\n", "\r": out += " "
            case "*", "_", "`", "<", ">", "[", "]", "\\": out += "\\\(ch)"
            default: out.append(ch)
            }
        }
        return out
    }
}

import Foundation
import Pipeline

/// LaTeX tables with booktabs rules (\toprule, \midrule, \cmidrule, \bottomrule), ready to
/// \input into a paper; needs \usepackage{booktabs}. Marks are \textbf; "±" is $\pm$.
public enum LaTeXTables {
    public static func grid(_ g: Grid) -> String {
        let n = g.columnCount
        let labelCols = g.sections.first?.rows.first?.prefix { $0.isLabel }.count ?? 1
        let spec = String(repeating: "l", count: max(labelCols, 1)) + String(repeating: "r", count: max(n - labelCols, 0))
        var out = "% \(oneLine(g.title))\n% \(oneLine(g.notes.joined(separator: " ")))\n"
        out += "\\begin{table}[t]\n\\centering\n\\caption{\(escape(captionText(g.title)))}\n\\label{tab:seafold-\(g.id)}\n"
        out += "\\begin{tabular}{\(spec)}\n\\toprule\n"
        for (r, row) in g.header.enumerated() {
            out += row.map { h in
                h.span == 1 ? escape(h.text) : "\\multicolumn{\(h.span)}{c}{\(escape(h.text))}"
            }.joined(separator: " & ") + " \\\\\n"
            if r < g.header.count - 1 {
                // \cmidrule under every spanning, non-empty group header
                var col = 1
                var rules: [String] = []
                for h in row {
                    if !h.text.isEmpty { rules.append("\\cmidrule(lr){\(col)-\(col + h.span - 1)}") }
                    col += h.span
                }
                if !rules.isEmpty { out += rules.joined(separator: " ") + "\n" }
            }
        }
        for section in g.sections {
            out += "\\midrule\n"
            if let title = section.title {
                out += "\\multicolumn{\(n)}{l}{\\textit{\(escape(title))}} \\\\\n"
            }
            for row in section.rows {
                out += row.map { item in
                    let t = value(item.text)
                    return item.bold ? "\\textbf{\(t)}" : t
                }.joined(separator: " & ") + " \\\\\n"
            }
        }
        out += "\\bottomrule\n\\end{tabular}\n"
        if !g.notes.isEmpty { out += "\n\\smallskip\n{\\footnotesize \(escape(g.notes.joined(separator: " ")))}\n" }
        out += "\\end{table}\n"
        return out
    }

    /// A formatted number: ± and the em dash become math/text commands.
    static func value(_ s: String) -> String {
        escape(s)
    }

    /// Escape LaTeX's special characters in text.
    public static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "\\": out += "\\textbackslash{}"
            case "&", "%", "$", "#", "_", "{", "}": out += "\\\(ch)"
            case "~": out += "\\textasciitilde{}"
            case "^": out += "\\textasciicircum{}"
            case "<": out += "\\textless{}"
            case ">": out += "\\textgreater{}"
            case "|": out += "\\textbar{}"
            case "\n", "\r": out += " "
            case "−": out += "--"
            case "—": out += "---"
            case "±": out += "$\\pm$"
            case "↑": out += "$\\uparrow$"
            case "↓": out += "$\\downarrow$"
            case "²": out += "$^2$"
            case "ε": out += "$\\varepsilon$"
            case "…": out += "\\ldots{}"
            default: out.append(ch)
            }
        }
        return out
    }

    /// The title without its leading "Table 1: ", which LaTeX's \\caption prints itself.
    static func captionText(_ title: String) -> String {
        guard title.hasPrefix("Table "), let colon = title.firstIndex(of: ":"),
              Int(title[title.index(title.startIndex, offsetBy: 6)..<colon]) != nil else { return title }
        return title[title.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }

    static func oneLine(_ s: String) -> String {
        s.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }
}

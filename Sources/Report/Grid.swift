import Foundation
import Pipeline

/// A format-neutral table: what Markdown, LaTeX and HTML print. Built once from an `Aggregate`
/// so every format shows the same text, marks and gap reasons.
public struct Grid: Equatable, Sendable {
    public struct Header: Equatable, Sendable {
        public var text: String
        public var span: Int
    }
    public struct Item: Equatable, Sendable {
        public var text: String
        public var bold: Bool
        /// Why the value is missing or partial (HTML tooltip; listed under the table elsewhere).
        public var note: String?
        /// True for row labels (left column(s)).
        public var isLabel: Bool
    }
    public struct Section: Equatable, Sendable {
        public var title: String?
        public var rows: [[Item]]
    }

    /// "table1", "table2", ...
    public var id: String
    public var title: String
    public var notes: [String]
    /// Header rows; spans add up to the column count. The last row names every column.
    public var header: [[Header]]
    public var sections: [Section]
    /// "Where: why" lines for every empty or partial cell.
    public var gaps: [String]

    public var columnCount: Int { header.last.map { $0.reduce(0) { $0 + $1.span } } ?? 0 }

    /// Column names with the upper header rows folded in ("Precision KNN"), for flat formats.
    public var flatHeader: [String] {
        guard let last = header.last else { return [] }
        var names = last.flatMap { h in Array(repeating: h.text, count: h.span) }
        for row in header.dropLast().reversed() {
            var i = 0
            for h in row {
                for j in i..<min(i + h.span, names.count) where !h.text.isEmpty {
                    names[j] = names[j].isEmpty ? h.text : "\(h.text) \(names[j])"
                }
                i += h.span
            }
        }
        return names
    }

    static func label(_ text: String) -> Item { Item(text: text, bold: false, note: nil, isLabel: true) }

    static func value(_ cell: Cell?, _ format: (Cell) -> String) -> Item {
        guard let cell else { return Item(text: NumberFormat.dash, bold: false, note: "not computed", isLabel: false) }
        var note: String?
        if cell.summary == nil { note = cell.emptyReason }
        else if !cell.gaps.isEmpty { note = cell.gaps.map { "fold \($0.fold + 1): \($0.reason)" }.joined(separator: "; ") }
        return Item(text: format(cell), bold: cell.marked, note: note, isLabel: false)
    }

    /// Gap lines for the items of a row, `where` naming the cell.
    static func gapLine(_ place: String, _ cell: Cell?) -> String? {
        guard let cell else { return nil }
        if cell.summary == nil { return "\(place): no folds — \(cell.emptyReason ?? "no result")" }
        guard !cell.gaps.isEmpty else { return nil }
        let text = cell.gaps.map { "fold \($0.fold + 1): \($0.reason)" }.joined(separator: "; ")
        return "\(place): \(cell.values.count) of \(cell.expectedFolds) folds — \(text)"
    }
}

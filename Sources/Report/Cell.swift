import Foundation
import Pipeline

/// One fold's value in a table cell (fold 0-based, as in `ShardKey`).
public struct FoldValue: Codable, Equatable, Sendable {
    public var fold: Int
    public var value: Double
}

/// A fold that a cell expected but has no result for, and why.
public struct FoldGap: Codable, Equatable, Sendable {
    public var fold: Int
    public var reason: String
}

/// One aggregated table cell: the per-fold values, their mean ± std (numpy ddof semantics),
/// the folds that are missing (gaps, never zeros) and whether the cell carries the table's mark
/// (best per head in Table 2, largest per dataset column in Table 3).
public struct Cell: Codable, Equatable, Sendable {
    public var values: [FoldValue]
    /// How many folds the column has (present + missing).
    public var expectedFolds: Int
    public var gaps: [FoldGap]
    /// nil when no fold has a value; then `emptyReason` says why and the cell prints as "—".
    public var summary: MeanStd?
    public var emptyReason: String?
    public var marked: Bool

    public init(values: [FoldValue], expectedFolds: Int, gaps: [FoldGap], ddof: Int, emptyReason: String? = nil) {
        self.values = values.sorted { $0.fold < $1.fold }
        self.expectedFolds = expectedFolds
        self.gaps = gaps.sorted { $0.fold < $1.fold }
        summary = MeanStd(self.values.map(\.value), ddof: ddof)
        if summary == nil {
            self.emptyReason = emptyReason
                ?? (gaps.isEmpty ? "no folds recorded" : gaps.map { "fold \($0.fold + 1): \($0.reason)" }.joined(separator: "; "))
        } else {
            self.emptyReason = nil
        }
        marked = false
    }

    /// Values keyed by fold, for paired comparisons.
    public var byFold: [Int: Double] { Dictionary(values.map { ($0.fold, $0.value) }, uniquingKeysWith: { a, _ in a }) }
    public var isPartial: Bool { summary != nil && !gaps.isEmpty }
}

/// How numbers are printed, as in the paper: percentages with 2 decimals ("79.67±2.19%"),
/// divergences with 3 ("0.148±0.030"). A cell with missing folds adds "(present/expected)";
/// a std that is undefined (n ≤ ddof) is left out; an empty cell is "—".
public enum NumberFormat {
    public static let dash = "—"

    public static func fixed(_ v: Double, _ decimals: Int) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        // String(format:) is locale-independent here (no locale argument) and rounds half-even on
        // the binary value, the same as Python's "%.2f".
        let s = String(format: "%.\(decimals)f", v)
        return s == "-" + String(format: "%.\(decimals)f", 0.0) ? String(s.dropFirst()) : s
    }

    /// "79.67±2.19%" for a fraction in [0, 1].
    public static func percent(_ cell: Cell, pm: String = "±", percentSign: String = "%") -> String {
        guard let s = cell.summary else { return dash }
        var text = fixed(s.mean * 100, 2)
        if let sd = s.std { text += pm + fixed(sd * 100, 2) }
        return text + percentSign + partialSuffix(cell)
    }

    /// "0.148±0.030".
    public static func plain(_ cell: Cell, decimals: Int = 3, pm: String = "±") -> String {
        plain(cell, style: .fixed(decimals), pm: pm)
    }

    /// A cell in a column's style: "0.148±0.030", or "3.50e-04±1.20e-05" in a scientific column.
    public static func plain(_ cell: Cell, style: NumberStyle, pm: String = "±") -> String {
        guard let s = cell.summary else { return dash }
        var text = style.format(s.mean)
        if let sd = s.std { text += pm + style.format(sd) }
        return text + partialSuffix(cell)
    }

    static func partialSuffix(_ cell: Cell) -> String {
        cell.isPartial ? " (\(cell.values.count)/\(cell.expectedFolds))" : ""
    }

    /// Paper names of the compared layers.
    public static func layerLabel(_ layer: String) -> String {
        let ordinals = ["1st", "2nd", "3rd", "4th", "5th", "6th", "7th"]
        if layer.hasPrefix("conv"), let i = Int(layer.dropFirst(4)), i >= 1, i <= ordinals.count {
            return "\(ordinals[i - 1]) Conv."
        }
        if layer.hasPrefix("fc"), let i = Int(layer.dropFirst(2)), i >= 1, i <= ordinals.count {
            return "\(ordinals[i - 1]) FC"
        }
        return layer
    }

    public static func headLabel(_ head: HeadKind) -> String {
        switch head {
        case .svm: return "SVM"
        case .knn: return "KNN"
        case .fc: return "Fully Connected"
        case .output: return "Output layer"
        }
    }

    public static func headShort(_ head: HeadKind) -> String {
        switch head {
        case .svm: return "SVM"
        case .knn: return "KNN"
        case .fc: return "FC"
        case .output: return "Output"
        }
    }

    /// "p = 0.0497"; tiny values in scientific notation.
    public static func pValue(_ p: Double) -> String {
        if p < 0.0001 { return String(format: "%.2e", p) }
        return fixed(p, 4)
    }
}

/// How one table column prints its numbers, chosen from the magnitudes of all its cells so that
/// a column of small values (KL divergences around 1e-4) does not print as "0.000±0.000" and
/// all rows of a column line up in one notation.
public enum NumberStyle: Equatable, Sendable {
    /// Fixed decimals ("0.148").
    case fixed(Int)
    /// Scientific notation with this many mantissa decimals ("3.50e-04").
    case scientific(Int)

    /// The fewest decimals a column is printed with (the paper's 3).
    public static let minimumDecimals = 3
    /// Above this many decimals a column switches to scientific notation.
    public static let maximumFixedDecimals = 4

    public func format(_ v: Double) -> String {
        switch self {
        case .fixed(let d): return NumberFormat.fixed(v, d)
        case .scientific(let d):
            guard v.isFinite else { return NumberFormat.fixed(v, 0) }
            return v == 0 ? NumberFormat.fixed(0, d) : String(format: "%.\(d)e", v)
        }
    }

    /// The style for a column whose cells have these means and stds: enough decimals for two
    /// significant digits of the smallest non-zero mean and one of the smallest std that is
    /// not negligible (≥ 1e-3 of its column's largest mean), at least `minimumDecimals`; more
    /// than `maximumFixedDecimals` switches the column to scientific notation.
    public static func forColumn(means: [Double], stds: [Double]) -> NumberStyle {
        let m = means.filter { $0.isFinite && $0 != 0 }.map(abs)
        let largest = m.max() ?? 0
        let sd = stds.filter { $0.isFinite && $0 > 0 && $0 >= largest * 1e-3 }
        var decimals = minimumDecimals
        if let small = m.min() { decimals = max(decimals, 1 - Int(floor(log10(small)))) }
        if let small = sd.min() { decimals = max(decimals, -Int(floor(log10(small)))) }
        return decimals > maximumFixedDecimals ? .scientific(2) : .fixed(decimals)
    }

    /// The style for a column of cells (empty cells are ignored).
    public static func forColumn(_ cells: [Cell?]) -> NumberStyle {
        let s = cells.compactMap { $0?.summary }
        return forColumn(means: s.map(\.mean), stds: s.compactMap(\.std))
    }
}

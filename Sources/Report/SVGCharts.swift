import Foundation

/// Inline SVG charts for the HTML report: grouped bars (with optional ± error bars) and line
/// charts. Plain SVG 1.1 elements only, fixed palette (lines also differ by dash and marker),
/// legends that wrap inside the chart's width, numbers printed with fixed decimals so the output
/// is deterministic. Every text goes through `HTML.escape`.
public enum SVGCharts {
    public static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
                                 "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    public struct Bar: Sendable {
        public var value: Double?
        public var error: Double?
        public init(value: Double?, error: Double? = nil) { self.value = value; self.error = error }
    }

    /// Grouped bar chart: `groups` along x, one bar per series in each group. A nil value is
    /// drawn as a hatched gap with "n/a", not as a zero bar.
    public static func groupedBars(title: String, groups: [String], series: [String], values: [[Bar]],
                                   yLabel: String, width: Int = 640, height: Int = 260) -> String {
        let left = 56.0, right = 12.0, top = 28.0
        let legendRows = legendLayout(series, x: left, maxX: Double(width) - right).rows
        let bottom = 30.0 + legendRowHeight * Double(legendRows)
        let height = height + Int(legendRowHeight * Double(max(legendRows - 1, 0)))
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        var maxV = 0.0
        for row in values { for b in row { if let v = b.value, v.isFinite { maxV = max(maxV, v + max(b.error ?? 0, 0)) } } }
        let yMax = niceCeiling(maxV)
        var s = svgOpen(width: width, height: height, title: title)
        s += axes(left: left, top: top, plotW: plotW, plotH: plotH, yMax: yMax, yLabel: yLabel, yMin: 0)
        let groupW = plotW / Double(max(groups.count, 1))
        let barW = groupW * 0.8 / Double(max(series.count, 1))
        for (g, name) in groups.enumerated() {
            let x0 = left + Double(g) * groupW + groupW * 0.1
            for k in series.indices {
                let bar = g < values.count && k < values[g].count ? values[g][k] : Bar(value: nil)
                let x = x0 + Double(k) * barW
                guard let v = bar.value, v.isFinite else {
                    s += "<rect x=\"\(f(x))\" y=\"\(f(top + plotH - 14))\" width=\"\(f(barW * 0.9))\" height=\"14\" class=\"gapbar\"><title>\(HTML.escape(series[k])): no value</title></rect>"
                    continue
                }
                let h = yMax > 0 ? v / yMax * plotH : 0
                s += "<rect x=\"\(f(x))\" y=\"\(f(top + plotH - h))\" width=\"\(f(barW * 0.9))\" height=\"\(f(h))\" fill=\"\(palette[k % palette.count])\">"
                s += "<title>\(HTML.escape("\(name), \(series[k]): \(label(v))\(bar.error.map { " ± \(label($0))" } ?? "")"))</title></rect>"
                if let e = bar.error, e > 0, yMax > 0 {
                    let cx = x + barW * 0.45
                    let y1 = top + plotH - (v + e) / yMax * plotH, y2 = top + plotH - max(v - e, 0) / yMax * plotH
                    s += "<path d=\"M\(f(cx)) \(f(y1))V\(f(y2))M\(f(cx - 3)) \(f(y1))h6M\(f(cx - 3)) \(f(y2))h6\" stroke=\"#222\" fill=\"none\"/>"
                }
            }
            s += "<text x=\"\(f(left + (Double(g) + 0.5) * groupW))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\">\(HTML.escape(name))</text>"
        }
        s += legend(series.indices.map { LegendEntry(name: series[$0], style: .swatch(palette[$0 % palette.count])) },
                    x: left, y: top + plotH + 36, maxX: Double(width) - right)
        return s + "</svg>"
    }

    public struct Line: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) { self.name = name; self.points = points }
    }

    /// Line chart with markers; x and y ranges from the data (y from 0 when all y ≥ 0).
    public static func lines(title: String, lines: [Line], xLabel: String, yLabel: String,
                             width: Int = 420, height: Int = 260) -> String {
        let left = 56.0, right = 12.0, top = 28.0
        let legendRows = legendLayout(lines.map(\.name), x: left, maxX: Double(width) - right).rows
        let bottom = 50.0 + legendRowHeight * Double(legendRows)
        let h = Double(height) + legendRowHeight * Double(legendRows)
        let plotW = Double(width) - left - right, plotH = h - top - bottom
        let xs = lines.flatMap { $0.points.map(\.x) }.filter(\.isFinite)
        let ys = lines.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        let xMin = xs.min() ?? 0, xMax = max(xs.max() ?? 1, xMin + 1)
        let yMin = min(ys.min() ?? 0, 0), yMax = niceCeiling(ys.max() ?? 1)
        var s = svgOpen(width: width, height: Int(h), title: title)
        s += axes(left: left, top: top, plotW: plotW, plotH: plotH, yMax: yMax, yLabel: yLabel, yMin: yMin)
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(top + plotH + 30))\" text-anchor=\"middle\">\(HTML.escape(xLabel)) (\(label(xMin))–\(label(xMax)))</text>"
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotW }
        func py(_ y: Double) -> Double { top + plotH - (y - yMin) / max(yMax - yMin, 1e-300) * plotH }
        for (k, line) in lines.enumerated() {
            let style = lineStyle(k)
            let pts = line.points.filter { $0.x.isFinite && $0.y.isFinite }
            guard !pts.isEmpty else { continue }
            let d = pts.enumerated().map { i, p in "\(i == 0 ? "M" : "L")\(f(px(p.x))) \(f(py(p.y)))" }.joined()
            s += "<path d=\"\(d)\" stroke=\"\(style.color)\" stroke-width=\"1.8\" fill=\"none\"\(style.dashAttribute)><title>\(HTML.escape(line.name))</title></path>"
            for p in pts {
                s += marker(style, x: px(p.x), y: py(p.y), tooltip: "\(line.name): \(label(p.x)), \(label(p.y))")
            }
        }
        s += legend(lines.indices.map { LegendEntry(name: lines[$0].name, style: .line(lineStyle($0))) },
                    x: left, y: top + plotH + 46, maxX: Double(width) - right)
        return s + "</svg>"
    }

    // MARK: pieces

    static func svgOpen(width: Int, height: Int, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(HTML.escape(title))\">"
            + "<text x=\"8\" y=\"17\" class=\"ctitle\">\(HTML.escape(title))</text>"
    }

    static func axes(left: Double, top: Double, plotW: Double, plotH: Double, yMax: Double, yLabel: String, yMin: Double) -> String {
        var s = "<g class=\"axis\">"
        for i in 0...4 {
            let v = yMin + (yMax - yMin) * Double(i) / 4
            let y = top + plotH - plotH * Double(i) / 4
            s += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(y))\" y2=\"\(f(y))\" class=\"grid\"/>"
            s += "<text x=\"\(f(left - 4))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(label(v))</text>"
        }
        s += "<line x1=\"\(f(left))\" x2=\"\(f(left))\" y1=\"\(f(top))\" y2=\"\(f(top + plotH))\" stroke=\"#444\"/>"
        s += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(top + plotH))\" y2=\"\(f(top + plotH))\" stroke=\"#444\"/>"
        s += "<text transform=\"translate(12 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(HTML.escape(yLabel))</text>"
        return s + "</g>"
    }

    /// How one line looks: colour, dash pattern and marker. `lineStyle(k)` differs for every k
    /// below palette × dashes × markers (10 × 4 × 3), so no two lines of a chart share a look.
    public struct LineStyle: Equatable, Sendable {
        public var color: String
        /// SVG stroke-dasharray, nil for solid.
        public var dash: String?
        /// "circle", "square" or "triangle".
        public var marker: String
        var dashAttribute: String { dash.map { " stroke-dasharray=\"\($0)\"" } ?? "" }
    }

    public static let dashes: [String?] = [nil, "6 3", "2 2", "8 3 2 3"]
    public static let markers = ["circle", "square", "triangle"]

    /// Colour cycles fastest, then the dash pattern, then the marker.
    public static func lineStyle(_ k: Int) -> LineStyle {
        let n = palette.count, d = dashes.count
        return LineStyle(color: palette[k % n], dash: dashes[(k / n) % d], marker: markers[(k / (n * d)) % markers.count])
    }

    static func marker(_ style: LineStyle, x: Double, y: Double, tooltip: String) -> String {
        let tip = "<title>\(HTML.escape(tooltip))</title>"
        switch style.marker {
        case "square":
            return "<rect x=\"\(f(x - 2.5))\" y=\"\(f(y - 2.5))\" width=\"5\" height=\"5\" fill=\"\(style.color)\">\(tip)</rect>"
        case "triangle":
            return "<path d=\"M\(f(x)) \(f(y - 3))L\(f(x + 3)) \(f(y + 2.5))L\(f(x - 3)) \(f(y + 2.5))Z\" fill=\"\(style.color)\">\(tip)</path>"
        default:
            return "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"2.5\" fill=\"\(style.color)\">\(tip)</circle>"
        }
    }

    struct LegendEntry {
        enum Style { case swatch(String), line(LineStyle) }
        var name: String
        var style: Style
    }

    static let legendRowHeight = 16.0
    /// Width of a legend entry's key (swatch or line sample) and the gap after its text.
    static let legendKeyWidth = 28.0, legendGap = 16.0

    /// A generous estimate of a text's width in the charts' 11 px sans-serif (DejaVu Sans is
    /// about 0.6 em per character on average; wide letters and capitals count more), so a
    /// legend laid out with it stays inside its chart.
    static func textWidth(_ s: String, fontSize: Double = 11) -> Double {
        var em = 0.0
        for ch in s {
            if ch.isUppercase || "mwMW%@".contains(ch) { em += 0.85 } else if " .,:;'|!il()[]-".contains(ch) { em += 0.35 } else { em += 0.62 }
        }
        return em * fontSize
    }

    /// Where each legend entry goes: entries flow left to right and wrap before `maxX`.
    static func legendLayout(_ names: [String], x: Double, maxX: Double) -> (positions: [(x: Double, row: Int)], rows: Int) {
        var positions: [(x: Double, row: Int)] = []
        var cx = x, row = 0
        for name in names {
            let w = legendKeyWidth + textWidth(name) + legendGap
            if cx > x && cx + w - legendGap > maxX { cx = x; row += 1 }
            positions.append((cx, row))
            cx += w
        }
        return (positions, names.isEmpty ? 0 : row + 1)
    }

    static func legend(_ entries: [LegendEntry], x: Double, y: Double, maxX: Double) -> String {
        let layout = legendLayout(entries.map(\.name), x: x, maxX: maxX)
        var s = "<g class=\"legend\">"
        for (entry, pos) in zip(entries, layout.positions) {
            let lx = pos.x, ly = y + Double(pos.row) * legendRowHeight
            switch entry.style {
            case .swatch(let color):
                s += "<rect x=\"\(f(lx))\" y=\"\(f(ly - 9))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
                s += "<text x=\"\(f(lx + 14))\" y=\"\(f(ly))\">\(HTML.escape(entry.name))</text>"
            case .line(let style):
                s += "<path d=\"M\(f(lx)) \(f(ly - 4))h22\" stroke=\"\(style.color)\" stroke-width=\"1.8\" fill=\"none\"\(style.dashAttribute)/>"
                s += marker(style, x: lx + 11, y: ly - 4, tooltip: entry.name)
                s += "<text x=\"\(f(lx + legendKeyWidth))\" y=\"\(f(ly))\">\(HTML.escape(entry.name))</text>"
            }
        }
        return s + "</g>"
    }

    /// 1, 2, 2.5, 5 × 10^k at or above v.
    static func niceCeiling(_ v: Double) -> Double {
        guard v.isFinite, v > 0 else { return 1 }
        let p = pow(10, floor(log10(v)))
        for m in [1.0, 2, 2.5, 5, 10] where m * p >= v * (1 - 1e-12) { return m * p }
        return 10 * p
    }

    /// Coordinates with 2 decimals.
    static func f(_ v: Double) -> String { NumberFormat.fixed(v, 2) }

    /// Axis/tooltip numbers: up to 3 significant decimals, no trailing zeros.
    static func label(_ v: Double) -> String {
        var s = NumberFormat.fixed(v, abs(v) >= 100 ? 0 : 3)
        if s.contains(".") { while s.hasSuffix("0") { s.removeLast() }; if s.hasSuffix(".") { s.removeLast() } }
        return s
    }
}

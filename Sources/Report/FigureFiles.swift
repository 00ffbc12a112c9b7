import Foundation
import Pipeline
import SeafoldCore

/// The report's figures as files for papers, in `report/figures/`: every chart as `NAME.svg`
/// (text as SVG `<text>`, DejaVu Sans) and `NAME.png` (the same SVG rasterised by librsvg at 2×),
/// and every image figure (Figure 1 contact sheets, Figure 3 LIME) as the original `NAME.png`
/// plus `NAME.svg` with the image and its caption and colour key as text. Names are stable
/// (built from dataset, variant, fold and image index only), so a paper's \includegraphics
/// keeps working when the report is regenerated.
public enum FigureFiles {
    /// One chart: its file name without extension and its SVG (as the HTML report inlines it).
    public struct Figure: Equatable, Sendable {
        public var name: String
        public var svg: String
    }

    /// "multi-site/balanced" → "multi-site-balanced": lowercase letters, digits and single dashes.
    public static func slug(_ s: String) -> String {
        var out = ""
        for ch in s.lowercased() {
            if ch.isASCII && (ch.isLetter || ch.isNumber) { out.append(ch) } else if !out.hasSuffix("-") && !out.isEmpty { out.append("-") }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "unnamed" : out
    }

    static func foldDistribution(_ d: FoldDistribution) -> Figure {
        // Panels (a)–(c) are the folds; the last group is panel (d), all folds together.
        let groups = d.counts.indices.map { "Fold \($0 + 1)" } + ["All folds"]
        let values = d.counts.map { row in d.classes.indices.map { k in SVGCharts.Bar(value: k < row.count ? Double(row[k]) : nil) } }
            + [FigureTwo.allFolds(d).map { SVGCharts.Bar(value: Double($0)) }]
        return Figure(name: "figure2-folds-\(slug(d.dataset))",
                      svg: SVGCharts.groupedBars(title: "\(d.dataset): images per class and fold", groups: groups, series: d.classes,
                                                 values: values, yLabel: "images"))
    }

    static func divergence(_ a: Aggregate) -> [Figure] {
        [("kl", "KL divergence D_KL(FT||Base)"), ("euclidean", "Euclidean distance D_ED")].map { metric, title in
            let groups = a.layers.map(NumberFormat.layerLabel)
            let values = a.layers.map { layer in
                a.columns.map { c -> SVGCharts.Bar in
                    let cell = a.divergence(c, layer, metric)
                    return SVGCharts.Bar(value: cell?.summary?.mean, error: cell?.summary?.std)
                }
            }
            return Figure(name: "table3-\(metric)-per-layer",
                          svg: SVGCharts.groupedBars(title: title, groups: groups, series: a.columns, values: values, yLabel: title, width: 720))
        }
    }

    /// Loss and accuracy curves of one column; empty when it has none.
    static func curves(_ r: RunResults, column: String) -> [Figure] {
        let cs = r.curves.filter { $0.shard.column == column }
            .sorted { ($0.shard.fold, $0.model.rawValue, $0.head?.rawValue ?? "") < ($1.shard.fold, $1.model.rawValue, $1.head?.rawValue ?? "") }
        guard !cs.isEmpty else { return [] }
        func name(_ c: TrainingCurve) -> String {
            "fold \(c.shard.fold + 1) \(c.model.rawValue)" + (c.head.map { " \(NumberFormat.headShort($0)) head" } ?? "")
        }
        let loss = cs.map { c in SVGCharts.Line(name: name(c), points: c.epochs.map { (Double($0.epoch), $0.loss) }) }
        let acc = cs.map { c in SVGCharts.Line(name: name(c), points: c.epochs.map { (Double($0.epoch), $0.accuracy * 100) }) }
        return [Figure(name: "figure-training-loss-\(slug(column))",
                       svg: SVGCharts.lines(title: "\(column): training loss", lines: loss, xLabel: "epoch", yLabel: "loss", width: 560)),
                Figure(name: "figure-training-accuracy-\(slug(column))",
                       svg: SVGCharts.lines(title: "\(column): training accuracy (%)", lines: acc, xLabel: "epoch", yLabel: "accuracy %", width: 560))]
    }

    /// Every chart of the report, in report order.
    public static func charts(_ r: RunResults, aggregate a: Aggregate) -> [Figure] {
        r.foldDistributions.sorted { $0.dataset < $1.dataset }.map(foldDistribution) + divergence(a)
            + a.columns.flatMap { curves(r, column: $0) }
    }

    /// An image figure of the run: where its PNG is (relative to the run directory) and its caption.
    struct ImageFigure {
        var name: String
        var path: String
        var caption: [String]
    }

    static func imageFigures(_ r: RunResults) -> [ImageFigure] {
        var out = r.contactSheets.keys.sorted().map { key in
            ImageFigure(name: "figure1-examples-\(slug(key))", path: r.contactSheets[key] ?? "", caption: ["\(key): example images per class"])
        }
        let lime = LimeCaption.settings(r)
        let key = LimeCaption.legendText(topK: lime?.topK ?? LimeConfig().topK)
        for e in r.explanations.sorted(by: { ($0.shard, $0.imageIndex) < ($1.shard, $1.imageIndex) }) {
            guard let f = e.figure, let path = r.figures[f] else { continue }
            let caption = LimeCaption.text(e, classes: LimeCaption.classNames(r, dataset: e.shard.dataset), lime: lime)
            out.append(ImageFigure(name: "figure3-lime-\(slug(e.shard.dataset))-\(slug(e.shard.variant.rawValue))-fold\(e.shard.fold + 1)-image\(e.imageIndex)",
                                   path: path, caption: [caption, key]))
        }
        return out
    }

    /// Writes all figures into `directory` (created if needed) and returns the files written, in
    /// a fixed order. An image figure whose PNG cannot be read is left out and named in `skipped`.
    public static func write(_ r: RunResults, aggregate a: Aggregate, to directory: URL, runDirectory: URL?) throws -> (files: [URL], skipped: [String]) {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw SeafoldError.io(path: directory.path, reason: "cannot create the figures directory: \(error.localizedDescription)")
        }
        func put(_ data: Data, _ url: URL) throws {
            do { try data.write(to: url, options: .atomic) } catch {
                throw SeafoldError.io(path: url.path, reason: "cannot write: \(error.localizedDescription)")
            }
        }
        var files: [URL] = [], skipped: [String] = []
        for fig in charts(r, aggregate: a) {
            let svgURL = directory.appendingPathComponent(fig.name + ".svg"), pngURL = directory.appendingPathComponent(fig.name + ".png")
            let doc = standalone(fig.svg)
            try put(Data(doc.utf8), svgURL)
            try SVGRaster.writePNG(svg: doc, to: pngURL)
            files += [svgURL, pngURL]
        }
        for fig in imageFigures(r) {
            guard case .success(let png) = PNGEmbed.data(path: fig.path, runDirectory: runDirectory), let size = pngSize(png) else {
                skipped.append("\(fig.name): \(fig.path) could not be read as a PNG")
                continue
            }
            let svgURL = directory.appendingPathComponent(fig.name + ".svg"), pngURL = directory.appendingPathComponent(fig.name + ".png")
            try put(png, pngURL)
            try put(Data(imageSVG(png: png, width: size.width, height: size.height, caption: fig.caption).utf8), svgURL)
            files += [svgURL, pngURL]
        }
        return (files, skipped)
    }

    /// Style rules the HTML page gives its inline charts, for a chart that stands alone.
    static let standaloneStyle = """
    text { font-family: "DejaVu Sans", Verdana, sans-serif; font-size: 11px; fill: #1f2328; }
    .ctitle { font-weight: 600; font-size: 12px; }
    .grid { stroke: #eaeef2; }
    .gapbar { fill: none; stroke: #cf222e; stroke-dasharray: 3 2; }
    .lane { fill: #f6f8fa; }
    .bar.done { fill: #59a14f; } .bar.failed { fill: #e15759; } .bar.running { fill: #edc948; } .bar.ended { fill: #bab0ac; }
    .bar.retry { stroke: #1f2328; stroke-width: 1.5; stroke-dasharray: 4 2; }
    .barlabel { fill: #fff; font-size: 10px; }
    .failmark { fill: #cf222e; font-weight: 700; }
    """

    /// A chart as a complete SVG file: XML declaration, its own style and a white background.
    static func standalone(_ svg: String) -> String {
        guard let close = svg.firstIndex(of: ">") else { return svg }
        let head = svg[...close], body = svg[svg.index(after: close)...]
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\(head)<style>\n\(standaloneStyle)\n</style>"
            + "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\(body)\n"
    }

    /// An image with its caption below as wrapped SVG text.
    static func imageSVG(png: Data, width: Int, height: Int, caption: [String]) -> String {
        let w = max(width, 480)
        var lines: [String] = []
        for paragraph in caption { lines += wrap(paragraph, width: Double(w - 16)) }
        let lineH = 15.0, h = Double(height) + 12 + lineH * Double(lines.count)
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"\(w)\" height=\"\(SVGCharts.f(h))\" viewBox=\"0 0 \(w) \(SVGCharts.f(h))\">"
        s += "<style>\n\(standaloneStyle)\n</style><rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>"
        s += "<image x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" style=\"image-rendering:pixelated\" xlink:href=\"data:image/png;base64,\(png.base64EncodedString())\"/>"
        for (i, line) in lines.enumerated() {
            s += "<text x=\"8\" y=\"\(SVGCharts.f(Double(height) + 8 + lineH * Double(i + 1) - 3))\">\(HTML.escape(line))</text>"
        }
        return s + "</svg>\n"
    }

    /// Greedy word wrap by the charts' text-width estimate.
    static func wrap(_ text: String, width: Double) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ") {
            let candidate = current.isEmpty ? String(word) : current + " " + word
            if !current.isEmpty && SVGCharts.textWidth(candidate) > width { lines.append(current); current = String(word) } else { current = candidate }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// Width and height from a PNG's IHDR chunk.
    static func pngSize(_ d: Data) -> (width: Int, height: Int)? {
        let b = [UInt8](d.prefix(24))
        guard b.count == 24, Array(b[0..<8]) == PNGEmbed.signature, Array(b[12..<16]) == Array("IHDR".utf8) else { return nil }
        func be(_ i: Int) -> Int { Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3]) }
        let w = be(16), h = be(20)
        return w > 0 && h > 0 ? (w, h) : nil
    }
}

import TestSupport
import XCTest
import Pipeline
@testable import Report

final class FigureFilesTests: XCTestCase {
    func testTwelveLinesAllLookDifferentAndLegendsStayInside() {
        let styles = (0..<40).map(SVGCharts.lineStyle)
        for i in styles.indices { for j in styles.indices where i < j { XCTAssertNotEqual(styles[i], styles[j], "\(i) vs \(j)") } }
        XCTAssertEqual(styles[10].color, styles[0].color)
        XCTAssertNotEqual(styles[10].dash, styles[0].dash)
        let names = (1...12).map { "fold \($0) FT FC head" }
        let layout = SVGCharts.legendLayout(names, x: 56, maxX: 548)
        for (name, p) in zip(names, layout.positions) {
            XCTAssertLessThanOrEqual(p.x + SVGCharts.legendKeyWidth + SVGCharts.textWidth(name), 548, name)
        }
        XCTAssertGreaterThan(layout.rows, 1)
        // 12 lines in a chart: 12 dash/colour combinations among its paths, no repeats.
        let svg = SVGCharts.lines(title: "t", lines: names.map { SVGCharts.Line(name: $0, points: [(1, 1), (2, 2)]) },
                                  xLabel: "epoch", yLabel: "loss")
        // The data lines are the paths with a stroke that are not self-closing (legend samples are).
        let strokes = svg.components(separatedBy: "<path d=\"M").dropFirst().compactMap { piece -> String? in
            guard let end = piece.firstIndex(of: ">") else { return nil }
            let attrs = String(piece[..<end])
            guard attrs.contains("stroke-width=\"1.8\""), !attrs.hasSuffix("/"), let q = attrs.firstIndex(of: "\"") else { return nil }
            return String(attrs[q...])
        }
        XCTAssertEqual(strokes.count, 12)
        XCTAssertEqual(Set(strokes).count, 12)
    }

    func testSlugsAreStable() {
        XCTAssertEqual(FigureFiles.slug("multi-site/balanced"), "multi-site-balanced")
        XCTAssertEqual(FigureFiles.slug("  Sand & Rock  "), "sand-rock")
        XCTAssertEqual(FigureFiles.slug("///"), "unnamed")
    }

    func testWritesEveryFigureAsSVGAndPNGWithRealText() throws {
        let run = try Fixture.makeRunDirectory(removedAfter: self)
        let files = try ReportWriter.write(Fixture.results(), to: run.appendingPathComponent("report"), generatedAt: nil)
        let names = Set(files.figures.map(\.lastPathComponent))
        for stem in ["figure2-folds-single-site", "figure2-folds-multi-site", "table3-kl-per-layer", "table3-euclidean-per-layer",
                     "figure-training-loss-single-site-balanced", "figure-training-accuracy-multi-site-imbalanced",
                     "figure1-examples-single-site", "figure3-lime-single-site-balanced-fold1-image7"] {
            XCTAssertTrue(names.contains(stem + ".svg"), stem)
            XCTAssertTrue(names.contains(stem + ".png"), stem)
        }
        XCTAssertEqual(files.skippedFigures, [], "the fixture's absent figure is not a LIME image of an explanation")
        let dir = run.appendingPathComponent("report/figures")
        // The chart's PNG is the SVG at 2×: Figure 2 is 640 px wide.
        let png = try Data(contentsOf: dir.appendingPathComponent("figure2-folds-single-site.png"))
        let size = try XCTUnwrap(FigureFiles.pngSize(png))
        XCTAssertEqual(size.width, 1280)
        let svg = try String(contentsOf: dir.appendingPathComponent("figure2-folds-single-site.svg"), encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<?xml"))
        XCTAssertTrue(svg.contains(">crater</text>"), "legend as real text")
        XCTAssertTrue(svg.contains("DejaVu Sans"))
        // The LIME figure's SVG carries its caption, with class names, as text.
        let lime = try String(contentsOf: dir.appendingPathComponent("figure3-lime-single-site-balanced-fold1-image7.svg"), encoding: .utf8)
        XCTAssertTrue(lime.contains("true class crater"))
        XCTAssertTrue(lime.contains("Green: the top 5 superpixels"))
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("figure3-lime-single-site-balanced-fold1-image7.png")),
                       try Data(contentsOf: run.appendingPathComponent("figures/lime_7.png")))
    }

    /// The rasteriser draws the text: the same chart without its title is a different picture,
    /// and a bad SVG is a clear error naming the file.
    func testRasterisedTextIsDrawn() throws {
        let dir = try makeTemporaryDirectory("seafold-raster")
        let with = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"30\"><text x=\"4\" y=\"20\" font-family=\"DejaVu Sans\" font-size=\"14\">crater</text></svg>"
        let without = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"30\"></svg>"
        try SVGRaster.writePNG(svg: with, scale: 1, to: dir.appendingPathComponent("a.png"))
        try SVGRaster.writePNG(svg: without, scale: 1, to: dir.appendingPathComponent("b.png"))
        let a = try Data(contentsOf: dir.appendingPathComponent("a.png")), b = try Data(contentsOf: dir.appendingPathComponent("b.png"))
        XCTAssertEqual(FigureFiles.pngSize(a)?.width, 120)
        XCTAssertEqual(FigureFiles.pngSize(a)?.height, 30)
        XCTAssertGreaterThan(a.count, b.count + 100, "glyphs add anti-aliased pixels")
        XCTAssertThrowsError(try SVGRaster.writePNG(svg: "<svg", to: dir.appendingPathComponent("c.png"))) {
            XCTAssertTrue("\($0)".contains("c.png"), "\($0)")
        }
    }
}

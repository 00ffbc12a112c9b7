import XCTest
import Pipeline
@testable import Report

/// Per-column number styles, checked against values worked out by hand.
final class NumberStyleTests: XCTestCase {
    func cell(_ values: [Double]) -> Cell {
        Cell(values: values.enumerated().map { FoldValue(fold: $0.offset, value: $0.element) }, expectedFolds: values.count, gaps: [], ddof: 0)
    }

    func testSmallDivergencesAreNotPrintedAsZero() {
        // mean (3.38e-4 + 3.62e-4) / 2 = 3.5e-4, std (ddof 0) = 0.12e-4 = 1.2e-5.
        let c = cell([3.38e-4, 3.62e-4])
        XCTAssertEqual(c.summary?.mean ?? 0, 3.5e-4, accuracy: 1e-18)
        XCTAssertEqual(c.summary?.std ?? 0, 1.2e-5, accuracy: 1e-18)
        XCTAssertEqual(NumberFormat.plain(c), "0.000±0.000", "the old fixed 3 decimals, which hid the value")
        let style = NumberStyle.forColumn([c])
        // 2 significant digits of 3.5e-4 need 5 decimals, more than 4: scientific.
        XCTAssertEqual(style, .scientific(2))
        XCTAssertEqual(NumberFormat.plain(c, style: style), "3.50e-04±1.20e-05")
    }

    func testColumnsOfOrdinaryMagnitudeKeepThePapersThreeDecimals() {
        XCTAssertEqual(NumberStyle.forColumn(means: [0.148, 0.5], stds: [0.030, 0.1]), .fixed(3))
        XCTAssertEqual(NumberFormat.plain(cell([0.118, 0.178]), style: .fixed(3)), "0.148±0.030")
        XCTAssertEqual(NumberStyle.forColumn(means: [13.5, 9], stds: [4.5]), .fixed(3))
        // 0.00123: 1 - floor(log10 0.00123) = 1 - (-3) = 4 decimals; std 0.0004 needs 4 too.
        XCTAssertEqual(NumberStyle.forColumn(means: [0.00123, 0.2], stds: [0.0004]), .fixed(4))
        XCTAssertEqual(NumberStyle.fixed(4).format(0.00123), "0.0012")
        // One small std among larger means: 0.00004 needs 5 decimals → scientific for the column.
        XCTAssertEqual(NumberStyle.forColumn(means: [0.01], stds: [0.00004]), .scientific(2))
        // A std below 1e-3 of the column's largest mean is numerical noise: ignored.
        XCTAssertEqual(NumberStyle.forColumn(means: [0.5], stds: [1e-9]), .fixed(3))
        // Nothing but zeros or no values: the default.
        XCTAssertEqual(NumberStyle.forColumn(means: [0, 0], stds: [0]), .fixed(3))
        XCTAssertEqual(NumberStyle.forColumn([nil, nil]), .fixed(3))
    }

    func testScientificFormatting() {
        XCTAssertEqual(NumberStyle.scientific(2).format(-3.5e-4), "-3.50e-04")
        XCTAssertEqual(NumberStyle.scientific(2).format(0), "0.00")
        XCTAssertEqual(NumberStyle.scientific(2).format(12345), "1.23e+04")
    }

    func testTable3PicksAStylePerColumn() {
        var r = Fixture.results()
        // Column B's KL shrinks to ~1e-4; its ED and column A stay as they were.
        for i in r.divergences.indices where r.divergences[i].shard.column == Fixture.colB {
            for j in r.divergences[i].layers.indices { r.divergences[i].layers[j].kl *= 1e-3 }
        }
        let g = TableGrids.table3(Aggregate(r))
        let conv1 = g.sections[0].rows[0].map(\.text)
        // Column order: layer, KL A, KL B, ED A, ED B. KL A conv1: folds 0.5 and 1.0 → 0.750±0.250.
        XCTAssertEqual(conv1[1], "0.750±0.250 (2/3)")
        // KL B conv1: 0.25e-3 and 0.75e-3 → mean 5e-4, std 2.5e-4.
        XCTAssertEqual(conv1[2], "5.00e-04±2.50e-04")
        XCTAssertEqual(conv1[4], "1.000±0.500")
        XCTAssertFalse(g.sections[0].rows.flatMap { $0.map(\.text) }.contains { $0.hasPrefix("0.000±0.000") })
    }

    func testLaTeXCaptionDoesNotRepeatTheTableNumber() {
        let tex = LaTeXTables.grid(TableGrids.table1(Aggregate(Fixture.results())))
        XCTAssertTrue(tex.contains("\\caption{Test accuracy of the fine-tuned (FT) and baseline (Base) models}"), tex)
        XCTAssertFalse(tex.contains("\\caption{Table 1"))
        XCTAssertEqual(LaTeXTables.captionText("FT vs Base: paired t-test"), "FT vs Base: paired t-test")
        XCTAssertEqual(LaTeXTables.captionText("Table 12: x"), "x")
    }
}

import XCTest
import SeafoldCore
@testable import Explain

final class ColorAndSegmentationTests: XCTestCase {
    func testLabKnownValues() {
        let white = ColorSpace.lab(r: 1, g: 1, b: 1)
        XCTAssertEqual(white.L, 100, accuracy: 1e-3)
        XCTAssertEqual(white.a, 0, accuracy: 0.01)
        XCTAssertEqual(white.b, 0, accuracy: 0.01)
        let red = ColorSpace.lab(r: 1, g: 0, b: 0)
        XCTAssertEqual(red.L, 53.24, accuracy: 0.01)
        XCTAssertEqual(red.a, 80.09, accuracy: 0.01)
        XCTAssertEqual(red.b, 67.20, accuracy: 0.01)
        let black = ColorSpace.lab(r: 0, g: 0, b: 0)
        XCTAssertEqual(black.L, 0, accuracy: 1e-9)
        // Grey 0.5 by hand: linear ((0.555/1.055)^2.4) = 0.21404; Y = that; L = 116·Y^(1/3) − 16.
        let lin = pow(0.555 / 1.055, 2.4)
        XCTAssertEqual(ColorSpace.lab(r: 0.5, g: 0.5, b: 0.5).L, 116 * cbrt(lin) - 16, accuracy: 1e-4)
        // Dark values use the linear segment: c/12.92, then 7.787 t + 16/116 → L = 116·7.787·Y.
        let dark = ColorSpace.lab(r: 0.01, g: 0.01, b: 0.01)
        XCTAssertEqual(dark.L, 116 * 7.787 * (0.01 / 12.92) * (0.212671 + 0.715160 + 0.072169), accuracy: 1e-6)
    }

    func testGrayscaleReplicatesAndBadInputThrows() throws {
        let g = try RGBImage(grayscale: [0.1, 0.2, 0.3, 0.4], width: 2, height: 2)
        XCTAssertEqual(g.pixels, [0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.3, 0.3, 0.3, 0.4, 0.4, 0.4])
        XCTAssertThrowsError(try RGBImage(width: 2, height: 2, pixels: [0, 0, 0]))
        XCTAssertThrowsError(try RGBImage(width: 1, height: 1, channels: 4, pixels: [0, 0, 0, 0]))
    }

    func testSegmentationRelabelsInRasterOrder() throws {
        let s = try Segmentation(width: 3, height: 2, rawLabels: [7, 7, 2, 9, 2, 2], method: "t")
        XCTAssertEqual(s.labels, [0, 0, 1, 2, 1, 1])
        XCTAssertEqual(s.count, 3)
        let lists = s.pixelLists()
        XCTAssertEqual(lists.offsets, [0, 2, 5, 6])
        XCTAssertEqual(lists.indices, [0, 1, 2, 4, 5, 3])
    }

    /// Derivation from quickshift's definition: black and white halves of 32×32 each. Lab
    /// L differs by 100 → ratio 0.2 → 20 in feature space, so cross-half kernel terms are
    /// e^(−400/32) ≈ 4e-6 and every pixel's nearest higher-density pixel is a same-half
    /// neighbour (distance ≤ √2 < 20). Density in a flat rectangle is separable and rises
    /// toward the centre; its plateau (rows/cols 12…19 of each half, all within one window)
    /// holds one root, which lies ≥ 13 px from the other half, beyond the window radius 12.
    /// So: exactly two segments, the halves.
    func testQuickshiftTwoHalvesGivesTwoSegments() throws {
        let img = TestImages.halves(width: 64, height: 32)
        let seg = try Quickshift().segment(img)
        XCTAssertEqual(seg.count, 2)
        for r in 0..<32 { for c in 0..<64 { XCTAssertEqual(seg.labels[r * 64 + c], c < 32 ? 0 : 1) } }
        XCTAssertTrue(seg.warnings.isEmpty)
    }

    func testQuickshiftCollapseIsReportedAndFallbackUsed() throws {
        let flat = try RGBImage(width: 20, height: 20, pixels: [Float](repeating: 0.5, count: 1200))
        let seg = try Quickshift().segment(flat)
        XCTAssertEqual(seg.count, 1)
        XCTAssertTrue(seg.isCollapsed)
        XCTAssertFalse(seg.warnings.isEmpty)
        let method = SegmentationMethod.quickshift(Quickshift())
        let fb = try method.segment(flat, fallback: .grid(rows: 2, cols: 2), minimumSegments: 2)
        XCTAssertEqual(fb.count, 4)
        XCTAssertTrue(fb.warnings.contains { $0.contains("fell back") })
    }

    func testQuickshiftDeterministicBySeed() throws {
        let img = TestImages.quadrants(size: 40, noise: 0.2, seed: 3)
        let a = try Quickshift(randomSeed: 5).segment(img)
        let b = try Quickshift(randomSeed: 5).segment(img)
        XCTAssertEqual(a, b)
        XCTAssertGreaterThan(a.count, 1)
    }

    func testSLICGridMatchesRegularGrid() {
        // √(224·224/50) = 31.68 → start 15, step round(31.68) = 32.
        let g = SLIC.gridAxes(height: 224, width: 224, n: 50)
        XCTAssertEqual(g.rows.0, 15); XCTAssertEqual(g.rows.1, 32)
        XCTAssertEqual(g.cols.0, 15); XCTAssertEqual(g.cols.1, 32)
        // Fewer segments than the short side allows: the short axis takes one step of its length.
        let t = SLIC.gridAxes(height: 2, width: 100, n: 4)
        XCTAssertEqual(t.rows.1, 2); XCTAssertEqual(t.cols.1, 25); XCTAssertEqual(t.cols.0, 12)
    }

    /// 64×64 quadrants, n_segments 4: grid centres at (16,16), (16,48), (48,16), (48,48); the
    /// colour term (ΔLab/10)² ≥ 25 dwarfs the spatial term (< 4 within reach), so after the
    /// first (purely spatial) pass the segments are the four quadrants.
    func testSLICQuadrants() throws {
        let img = TestImages.quadrants(size: 64)
        let seg = try SLIC(nSegments: 4).segment(img)
        XCTAssertEqual(seg.count, 4)
        for r in 0..<64 { for c in 0..<64 {
            XCTAssertEqual(Int(seg.labels[r * 64 + c]), TestImages.quadrant(r, c, size: 64))
        } }
    }

    func testSLICConnectivityMergesSmallPieces() {
        // A lone pixel of label 5 inside label 1 is smaller than min_size and joins its neighbour.
        var labels = [Int](repeating: 1, count: 25)
        labels[12] = 5
        let out = SLIC.enforceConnectivity(labels, width: 5, height: 5, minSize: 2, maxSize: 100)
        XCTAssertEqual(Set(out), [0])
    }
}

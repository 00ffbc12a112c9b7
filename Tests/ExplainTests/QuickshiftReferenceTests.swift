import XCTest
import SeafoldCore
@testable import Explain

/// Quickshift against a direct, unoptimised transcription of skimage's definition
/// (`_quickshift_cython`: full-window density with exp(−‖Δf‖²/2σ²), the same seeded tie
/// noise, raster-order parent search, max_dist cut, forest flattening).
final class QuickshiftReferenceTests: XCTestCase {
    func naiveQuickshift(_ img: RGBImage, kernelSize: Double, maxDist: Double, ratio: Double, seed: UInt64) -> [Int] {
        let h = img.height, w = img.width
        var f = [[Double]](repeating: [0, 0, 0, 0, 0], count: h * w)
        for i in 0..<(h * w) {
            let lab = ColorSpace.lab(r: Double(img.pixels[3 * i]), g: Double(img.pixels[3 * i + 1]), b: Double(img.pixels[3 * i + 2]))
            f[i] = [lab.L * ratio, lab.a * ratio, lab.b * ratio, Double(i / w), Double(i % w)]
        }
        func d2(_ a: Int, _ b: Int) -> Double { (0..<5).map { (f[a][$0] - f[b][$0]) * (f[a][$0] - f[b][$0]) }.reduce(0, +) }
        let kw = Int((3 * kernelSize).rounded(.up))
        var dens = [Double](repeating: 0, count: h * w)
        for r in 0..<h { for c in 0..<w {
            for rr in max(r - kw, 0)..<min(r + kw + 1, h) { for cc in max(c - kw, 0)..<min(c + kw + 1, w) {
                dens[r * w + c] += exp(-0.5 * d2(r * w + c, rr * w + cc) / (kernelSize * kernelSize))
            } }
        } }
        var rng = SeededGenerator(seed: seed)
        for i in 0..<(h * w) { dens[i] += rng.nextDouble() * 0.00001 }
        var parent = Array(0..<(h * w))
        for r in 0..<h { for c in 0..<w {
            var closest = Double.infinity
            for rr in max(r - kw, 0)..<min(r + kw + 1, h) { for cc in max(c - kw, 0)..<min(c + kw + 1, w)
                where dens[rr * w + cc] > dens[r * w + c] {
                let d = d2(r * w + c, rr * w + cc)
                if d < closest { closest = d; parent[r * w + c] = rr * w + cc }
            } }
            if closest.squareRoot() > maxDist { parent[r * w + c] = r * w + c }
        } }
        var flat = parent
        while true {
            let next = flat.map { flat[$0] }
            if next == flat { break }
            flat = next
        }
        return flat
    }

    func check(_ img: RGBImage, _ q: Quickshift, file: StaticString = #file, line: UInt = #line) throws {
        let seg = try q.segment(img)
        let ref = try Segmentation(width: img.width, height: img.height,
                                   rawLabels: naiveQuickshift(img, kernelSize: q.kernelSize, maxDist: q.maxDist, ratio: q.ratio, seed: q.randomSeed),
                                   method: "reference")
        XCTAssertEqual(seg.labels, ref.labels, file: file, line: line)
        XCTAssertEqual(seg.count, ref.count, file: file, line: line)
    }

    func testMatchesDirectDefinitionOnNoisyImage() throws {
        let img = TestImages.quadrants(size: 24, noise: 0.3, seed: 8)
        try check(img, Quickshift(kernelSize: 2, maxDist: 6, ratio: 0.5, randomSeed: 1))
        try check(img, Quickshift(kernelSize: 1.5, maxDist: 200, ratio: 0.2, randomSeed: 2))
    }

    func testMatchesDirectDefinitionWithLimeDefaults() throws {
        let img = TestImages.quadrants(size: 20, noise: 0.25, seed: 9)
        try check(img, Quickshift())
    }
}

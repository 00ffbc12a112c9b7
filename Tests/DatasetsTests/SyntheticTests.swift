import Foundation
import SeafoldCore
import TestSupport
import XCTest
@testable import Datasets

final class SyntheticSASTests: XCTestCase {
    func testDeterministicBySeed() throws {
        let o = SyntheticSAS.Options(preset: .multiSite, count: 8, size: 32, seed: 5)
        let a = try SyntheticSAS.generate(o), b = try SyntheticSAS.generate(o)
        let c = try SyntheticSAS.generate(SyntheticSAS.Options(preset: .multiSite, count: 8, size: 32, seed: 6))
        XCTAssertEqual(a.map(\.image), b.map(\.image))
        XCTAssertEqual(a.map(\.mask), b.map(\.mask))
        XCTAssertNotEqual(a.map(\.image), c.map(\.image))
        for s in a {
            XCTAssertTrue(s.image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 && $0.isFinite })
            XCTAssertEqual(s.mask.count, 32 * 32)
        }
    }

    func testPresetCounts() {
        // Single-site at full size: the documented counts; scaled versions keep the order of sizes.
        XCTAssertEqual(SyntheticSAS.classCounts(preset: .singleSite, total: 2962), [148, 1807, 415, 592])
        XCTAssertEqual(SyntheticSAS.classCounts(preset: .multiSite, total: 118), [30, 30, 29, 29])
        let small = SyntheticSAS.classCounts(preset: .singleSite, total: 100)
        XCTAssertEqual(small.reduce(0, +), 100)
        // 100 × (148, 1807, 415, 592)/2962 = 5.0, 61.0, 14.0, 20.0
        XCTAssertEqual(small, [5, 61, 14, 20])
        XCTAssertEqual(SyntheticSAS.classCounts(preset: .singleSite, total: 4), [1, 1, 1, 1])
        let o = SyntheticSAS.Options(preset: .singleSite)
        XCTAssertEqual(o.count, 2962); XCTAssertEqual(o.size, 80)
    }

    func testGeneratedLabelsFollowCountsAndMasksMarkEvidence() throws {
        let samples = try SyntheticSAS.generate(SyntheticSAS.Options(preset: .singleSite, count: 40, size: 48, seed: 1))
        var counts = [0, 0, 0, 0]
        for s in samples { counts[s.label] += 1; XCTAssertEqual(s.className, SyntheticSAS.classes[s.label]) }
        XCTAssertEqual(counts, SyntheticSAS.classCounts(preset: .singleSite, total: 40))
        for s in samples where s.className != "flat" {
            XCTAssertGreaterThan(s.mask.reduce(0) { $0 + Int($1) }, 0, "\(s.className) image has an empty evidence mask")
        }
        for s in samples where s.className == "flat" { XCTAssertEqual(s.mask.reduce(0) { $0 + Int($1) }, 0) }
    }

    func testRawPixelStatisticsDoNotSeparateClassesPerfectly() throws {
        // Nearest class mean on standardised (mean, std, gradient energy): above chance, below 100 %.
        let site = SyntheticSAS.sites(SyntheticSAS.Options(preset: .singleSite))[0]
        func features(_ img: Image) -> [Double] {
            let p: [Double] = img.pixels.map(Double.init)
            let n = Double(p.count)
            var sum = 0.0, sq = 0.0, g = 0.0
            for v in p { sum += v; sq += v * v }
            let mean = sum / n
            let std = max(sq / n - mean * mean, 0).squareRoot()
            let w = img.width
            for y in 0..<(img.height - 1) {
                for x in 0..<(w - 1) {
                    let i = y * w + x
                    let dx: Double = p[i + 1] - p[i]
                    let dy: Double = p[i + w] - p[i]
                    g += dx * dx + dy * dy
                }
            }
            return [mean, std, g / n]
        }
        func dist(_ a: [Double], _ b: [Double]) -> Double {
            var s = 0.0
            for j in 0..<a.count { s += (a[j] - b[j]) * (a[j] - b[j]) }
            return s
        }
        let root = SeededGenerator(seed: 11)
        var train: [([Double], Int)] = [], test: [([Double], Int)] = []
        for i in 0..<(4 * 40) {
            var rng = root.derive("img-\(i)")
            let s = SyntheticSAS.render(label: i % 4, site: site, size: 40, difficulty: 0.5, rng: &rng)
            if i / 4 % 2 == 0 { train.append((features(s.image), s.label)) } else { test.append((features(s.image), s.label)) }
        }
        var mu = [0.0, 0.0, 0.0], sd = [0.0, 0.0, 0.0]
        for (f, _) in train { for j in 0..<3 { mu[j] += f[j] / Double(train.count) } }
        for (f, _) in train { for j in 0..<3 { sd[j] += (f[j] - mu[j]) * (f[j] - mu[j]) / Double(train.count) } }
        sd = sd.map { $0.squareRoot() }
        func z(_ f: [Double]) -> [Double] { [(f[0] - mu[0]) / sd[0], (f[1] - mu[1]) / sd[1], (f[2] - mu[2]) / sd[2]] }
        var centroids = [[Double]](repeating: [0, 0, 0], count: 4)
        var members = [0, 0, 0, 0]
        for (f, y) in train {
            let zf = z(f)
            members[y] += 1
            for j in 0..<3 { centroids[y][j] += zf[j] }
        }
        for c in 0..<4 { for j in 0..<3 { centroids[c][j] /= Double(members[c]) } }
        var correct = 0
        for (f, y) in test {
            let zf = z(f)
            var pred = 0
            for c in 1..<4 where dist(zf, centroids[c]) < dist(zf, centroids[pred]) { pred = c }
            if pred == y { correct += 1 }
        }
        let acc = Double(correct) / Double(test.count)
        print("raw-statistics nearest-class-mean accuracy: \(acc)")
        XCTAssertGreaterThan(acc, 0.4, "raw statistics should beat chance (0.25): \(acc)")
        XCTAssertLessThan(acc, 0.95, "raw statistics should not separate the classes: \(acc)")
    }

    func testWriteProducesImageFolderMasksAndManifest() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        let o = SyntheticSAS.Options(preset: .multiSite, count: 8, size: 24, seed: 3)
        let samples = try SyntheticSAS.generate(o)
        let root = try SyntheticSAS.write(samples, options: o, to: dir)
        let folder = try ImageFolder(root: root)
        XCTAssertEqual(folder.classes, SyntheticSAS.classes)
        XCTAssertEqual(folder.count, 8)
        XCTAssertTrue(folder.skipped.isEmpty)
        // Round trip: the written 16-bit PNG decodes to exactly the in-memory image.
        let first = try ImageLoader.load(folder.samples[0].url)
        XCTAssertEqual(first.pixels.count, samples[0].image.pixels.count)
        for (a, b) in zip(first.pixels, samples[0].image.pixels) { XCTAssertEqual(a, b, accuracy: 1e-7) }
        let m = try SyntheticSAS.readManifest(dir.appendingPathComponent("manifest.json"))
        XCTAssertEqual(m.options.seed, 3)
        XCTAssertEqual(m.images.count, 8)
        XCTAssertEqual(m.version, SyntheticSAS.generatorVersion)
        let mask = try ImageLoader.load(dir.appendingPathComponent(m.images[0].mask))
        XCTAssertEqual(mask.pixels.map { $0 > 0.5 ? UInt8(1) : 0 }, samples[0].mask)
    }

    func testBadOptionsAreErrors() {
        assertThrowsMentioning("count") { _ = try SyntheticSAS.generate(SyntheticSAS.Options(preset: .multiSite, count: 2)) }
        assertThrowsMentioning("difficulty") { _ = try SyntheticSAS.generate(SyntheticSAS.Options(preset: .multiSite, count: 4, size: 16, difficulty: 2)) }
    }
}

final class SyntheticSourceAndSheetTests: XCTestCase {
    func testSourceIsDeterministicBalancedAndVaried() throws {
        let k = SyntheticSource.classes.count
        XCTAssertGreaterThanOrEqual(k, 16)
        let a = try SyntheticSource.generate(count: 2 * k, size: 16, seed: 4)
        let b = try SyntheticSource.generate(count: 2 * k, size: 16, seed: 4)
        XCTAssertEqual(a.map(\.image), b.map(\.image))
        XCTAssertEqual(a.map(\.label), (0..<(2 * k)).map { $0 % k })
        let firstFour = try SyntheticSource.generate(count: 10, size: 16, seed: 4, classes: 4)
        XCTAssertEqual(firstFour.map(\.label), [0, 1, 2, 3, 0, 1, 2, 3, 0, 1])
        XCTAssertThrowsError(try SyntheticSource.generate(count: 10, size: 16, seed: 4, classes: k + 1))
        for s in a {
            XCTAssertEqual(s.image.channels, 1)
            let p = s.image.pixels
            let mean = p.reduce(0, +) / Float(p.count)
            XCTAssertGreaterThan(p.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(p.count), 1e-4, "\(s.className) image is blank")
        }
    }

    func testContactSheetSizeAndLabels() throws {
        let samples = try SyntheticSAS.generate(SyntheticSAS.Options(preset: .multiSite, count: 8, size: 16, seed: 2))
        let r = ContactSheet.render(samples: samples, classes: SyntheticSAS.classes, perClass: 2, tile: 16, overlayMasks: true)
        // label column: longest name (11) × 6 × 2 + 8 = 140; tiles 2 × (16 + 4) + 4 = 44.
        XCTAssertEqual(r.width, 184)
        XCTAssertEqual(r.height, 4 * 2 * 20 + 4)
        XCTAssertEqual(r.rgb.count, r.width * r.height * 3)
        // The label area holds light font pixels (235) on the dark background.
        XCTAssertTrue(r.rgb.contains(235))
    }
}

final class SeafloorPhysicsTests: XCTestCase {
    func testRockCastsShadowAwayFromSonarAndFacingSlopeIsBright() {
        // Sonar on the left (range grows with x). A boulder at x = 12 must leave a dark shadow at
        // larger x on its row, a bright sonar-facing flank, and mark both as evidence.
        var scene = SeafloorScene(size: 32)
        scene.addRock(x: 12, y: 16, radius: 3, height: 3, brightness: 1, evidence: true)
        let site = SonarSite(id: 0, gain: 1, looks: 64, roughShape: 2, textureScale: 1, falloff: 0, grazingTan: 0.2,
                             rangeMin: 1, rangeMax: 1, noiseFloor: 0)
        var rng = SeededGenerator(seed: 1)
        let (px, ev) = scene.image(site: site, rangeOffset: 32, roughShape: 1e9, rng: &rng)
        func mean(_ xs: ClosedRange<Int>) -> Float { xs.map { px[16 * 32 + $0] }.reduce(0, +) / Float(xs.count) }
        let ground = mean(2...6), shadow = mean(17...22), flank = mean(10...11)
        // Ground amplitude ≈ 0.3 (√1 × 0.3); shadow ≈ √0.06 × 0.3 ≈ 0.07.
        XCTAssertEqual(ground, 0.3, accuracy: 0.06)
        XCTAssertLessThan(shadow, 0.5 * ground)
        XCTAssertGreaterThan(flank, 1.2 * ground)
        XCTAssertEqual(ev[16 * 32 + 19], 1, "shadow of an evidence feature is evidence")
        XCTAssertEqual(ev[16 * 32 + 4], 0)
        // Rows that miss the rock have no shadow.
        XCTAssertEqual(px[2 * 32 + 19], 0.3, accuracy: 0.1)
    }
}

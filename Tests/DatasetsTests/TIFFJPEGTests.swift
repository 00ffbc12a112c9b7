import Foundation
import SeafoldCore
import TestSupport
import XCTest
@testable import Datasets

/// The committed fixtures (written by Fixtures/make_fixtures.py with tifffile and Pillow).
enum Fixtures {
    static let dir = RepositoryFiles.url("Tests/DatasetsTests/Fixtures")
    static func url(_ name: String) -> URL { dir.appendingPathComponent(name) }

    // The same formulas as make_fixtures.py, in HWC order.
    static func pattern8(_ h: Int, _ w: Int, _ c: Int) -> [Int] {
        var v: [Int] = []
        for y in 0..<h { for x in 0..<w { for ch in 0..<c { v.append((x * 37 + y * 101 + ch * 53 + 7) % 256) } } }
        return v
    }
    static func pattern16(_ h: Int, _ w: Int, _ c: Int) -> [Int] {
        var v: [Int] = []
        for y in 0..<h { for x in 0..<w { for ch in 0..<c { v.append((x * 7919 + y * 104729 + ch * 15485863 + 12345) % 65536) } } }
        return v
    }
    static func patternFloat(_ h: Int, _ w: Int) -> [Float] {
        var v: [Float] = []
        for y in 0..<h { for x in 0..<w { v.append(Float(Double(x) * 0.37 - Double(y) * 1.13 + 0.5)) } }
        return v
    }
}

final class TIFFJPEGTests: XCTestCase {
    /// Integer samples scaled exactly like PNG: v × (1/255) or v × (1/65535) in Float.
    func scaled(_ v: [Int], _ max: Float) -> [Float] { let k = 1 / max; return v.map { Float($0) * k } }

    func testLosslessTIFFsMatchTheWrittenArraysExactly() throws {
        let cases: [(String, Int, Int, Int, Int, [Float])] = [  // file, h, w, channels, bit depth, expected
            ("grey8.tif", 7, 13, 1, 8, scaled(Fixtures.pattern8(7, 13, 1), 255)),
            ("grey8_lzw.tif", 7, 13, 1, 8, scaled(Fixtures.pattern8(7, 13, 1), 255)),
            ("grey16_deflate.tif", 7, 13, 1, 16, scaled(Fixtures.pattern16(7, 13, 1), 65535)),
            ("rgb8_deflate.tif", 7, 13, 3, 8, scaled(Fixtures.pattern8(7, 13, 3), 255)),
            ("rgb16_bigendian.tif", 7, 13, 3, 16, scaled(Fixtures.pattern16(7, 13, 3), 65535)),
            ("rgb8_tiled.tif", 21, 37, 3, 8, scaled(Fixtures.pattern8(21, 37, 3), 255)),
            // Alpha dropped: the first three of four samples.
            ("rgba8.tif", 7, 13, 3, 8, scaled(Fixtures.pattern8(7, 13, 4).enumerated().filter { $0.offset % 4 != 3 }.map(\.element), 255)),
            // Min-is-white: 0 is white, flipped so that larger is brighter.
            ("miniswhite8.tif", 7, 13, 1, 8, scaled(Fixtures.pattern8(7, 13, 1).map { 255 - $0 }, 255)),
        ]
        for (name, h, w, c, depth, expected) in cases {
            let (img, info) = try ImageLoader.loadWithInfo(Fixtures.url(name))
            XCTAssertEqual([img.height, img.width, img.channels], [h, w, c], name)
            XCTAssertEqual(info.bitDepth, depth, name)
            XCTAssertEqual(info.format, "tiff", name)
            XCTAssertEqual(info.hadAlpha, name == "rgba8.tif", name)
            XCTAssertEqual(img.pixels, expected, name)
            XCTAssertEqual(try ImageLoader.probe(Fixtures.url(name)), info, name)
        }
    }

    func testFloatTIFFFollowsTheFloatNpyConvention() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        for (name, h, w) in [("float32.tif", 7, 13), ("float32_tiled.tif", 21, 37)] {
            let values = Fixtures.patternFloat(h, w)
            let (raw, info) = try ImageLoader.loadWithInfo(Fixtures.url(name), floatScaling: .none)
            XCTAssertEqual(raw.pixels, values, name)
            XCTAssertEqual([info.bitDepth, info.channels], [32, 1], name)
            XCTAssertEqual(info.format, "tiff:float32")
            // Default: the per-image 1st–99th percentile stretch, exactly as for a float .npy.
            let npy = dir.appendingPathComponent("same.npy")
            try NpyArray(shape: [h, w], floats: values).write(to: npy)
            let stretched = try ImageLoader.load(Fixtures.url(name))
            XCTAssertEqual(stretched.pixels, try ImageLoader.load(npy).pixels, name)
            XCTAssertEqual(stretched.pixels, ImageLoader.scale(values, .standard), name)
            XCTAssertEqual(stretched.pixels.min(), 0); XCTAssertEqual(stretched.pixels.max(), 1)
        }
    }

    func testJPEGMatchesPillowsDecode() throws {
        for (name, c) in [("grey.jpg", 1), ("rgb420.jpg", 3), ("rgb444_progressive.jpg", 3)] {
            let ref = try NpyArray.read(from: Fixtures.url(name.replacingOccurrences(of: ".jpg", with: ".pillow.npy")))
            XCTAssertEqual(ref.dtype, .uint8)
            let (img, info) = try ImageLoader.loadWithInfo(Fixtures.url(name))
            XCTAssertEqual([img.height, img.width, img.channels], [ref.shape[0], ref.shape[1], c], name)
            XCTAssertEqual([info.bitDepth, info.channels], [8, c], name)
            XCTAssertEqual(info.format, "jpeg")
            XCTAssertEqual(img.pixels, scaled(ref.floats().map { Int($0) }, 255), name)
            XCTAssertEqual(try ImageLoader.probe(Fixtures.url(name)), info, name)
        }
    }

    func testUnsupportedLayoutsAndMultiPageAreClearErrors() throws {
        let cases: [(String, [String])] = [
            ("int16.tif", ["16-bit signed integer"]),
            ("float64.tif", ["64-bit floating-point"]),
            ("planar_rgb8.tif", ["planar"]),
            ("two_pages.tif", ["multi-page", "2 full-resolution pages"]),
            ("cmyk.jpg", ["CMYK"]),
        ]
        for (name, fragments) in cases {
            let u = Fixtures.url(name)
            assertThrowsMentioning(u.path) { _ = try ImageLoader.load(u) }
            for f in fragments { assertThrowsMentioning(f) { _ = try ImageLoader.load(u) } }
        }
    }

    func testExtensionsAreCaseInsensitiveAndImageFolderFindsThem() throws {
        let root = try makeTemporaryDirectory("seafold-ds")
        let fm = FileManager.default
        for c in ["rock", "sand"] { try fm.createDirectory(at: root.appendingPathComponent(c), withIntermediateDirectories: true) }
        try fm.copyItem(at: Fixtures.url("grey8.tif"), to: root.appendingPathComponent("rock/a.TIF"))
        try fm.copyItem(at: Fixtures.url("rgb8_deflate.tif"), to: root.appendingPathComponent("rock/b.tiff"))
        try fm.copyItem(at: Fixtures.url("grey.jpg"), to: root.appendingPathComponent("sand/c.JPEG"))
        try fm.copyItem(at: Fixtures.url("rgb420.jpg"), to: root.appendingPathComponent("sand/d.jpg"))
        let f = try ImageFolder(root: root)
        XCTAssertEqual(f.samples.map(\.relativePath), ["rock/a.TIF", "rock/b.tiff", "sand/c.JPEG", "sand/d.jpg"])
        XCTAssertEqual(f.labels, [0, 0, 1, 1])
        XCTAssertTrue(f.skipped.isEmpty)
        XCTAssertEqual(try ImageLoader.load(root.appendingPathComponent("rock/a.TIF")), try ImageLoader.load(Fixtures.url("grey8.tif")))
        XCTAssertEqual(try ImageLoader.load(root.appendingPathComponent("sand/c.JPEG")), try ImageLoader.load(Fixtures.url("grey.jpg")))
    }
}

import Foundation
import SeafoldCore
import TestSupport
import XCTest
@testable import Datasets

final class ImageIOTests: XCTestCase {
    func test16BitGreyRoundTripKeepsFullRange() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        // Values that are not multiples of 257, so an 8-bit detour would change them.
        let levels: [UInt16] = [0, 1, 1000, 40000, 65000, 65535]
        let img = Image(width: 3, height: 2, channels: 1, pixels: levels.map { Float($0) / 65535 })
        let url = dir.appendingPathComponent("g16.png")
        try PNGWriter.write(img, to: url, bitDepth: 16)
        let (back, info) = try ImageLoader.loadWithInfo(url)
        XCTAssertEqual(info.bitDepth, 16)
        XCTAssertEqual(back.channels, 1)
        XCTAssertEqual(back.width, 3); XCTAssertEqual(back.height, 2)
        for (a, b) in zip(back.pixels, levels) { XCTAssertEqual(a * 65535, Float(b), accuracy: 1e-2) }
    }

    func test8BitRGBRoundTripAndScaling() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        let rgb: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]
        let url = dir.appendingPathComponent("rgb.png")
        try PNGWriter.writeRGB8(width: 2, height: 2, rgb: rgb, to: url)
        let (img, info) = try ImageLoader.loadWithInfo(url)
        XCTAssertEqual(info.bitDepth, 8)
        XCTAssertEqual(img.channels, 3)
        XCTAssertEqual(img.pixels.count, 12)
        for (a, b) in zip(img.pixels, rgb) { XCTAssertEqual(a, Float(b) / 255, accuracy: 1e-6) }
    }

    func test8BitGrey() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        let url = dir.appendingPathComponent("g8.png")
        try PNGWriter.writeGray8(width: 2, height: 1, gray: [51, 204], to: url)
        let img = try ImageLoader.load(url)
        XCTAssertEqual(img.channels, 1)
        XCTAssertEqual(img.pixels[0], 0.2, accuracy: 1e-6)
        XCTAssertEqual(img.pixels[1], 0.8, accuracy: 1e-6)
    }

    func testTruncatedAndNonImagePNGNameTheFile() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        let good = dir.appendingPathComponent("good.png")
        try PNGWriter.write(Image(width: 64, height: 64, channels: 1, pixels: (0..<4096).map { Float($0 % 97) / 97 }), to: good, bitDepth: 16)
        let data = try Data(contentsOf: good)
        let cut = dir.appendingPathComponent("cut.png")
        try data.prefix(data.count / 2).write(to: cut)
        assertThrowsMentioning("cut.png") { _ = try ImageLoader.load(cut) }
        let text = dir.appendingPathComponent("text.png")
        try Data("hello, not a png".utf8).write(to: text)
        assertThrowsMentioning("text.png") { _ = try ImageLoader.load(text) }
        assertThrowsMentioning("missing.png") { _ = try ImageLoader.load(dir.appendingPathComponent("missing.png")) }
        let odd = dir.appendingPathComponent("x.jpg")
        try Data([1, 2, 3]).write(to: odd)
        assertThrowsMentioning("x.jpg") { _ = try ImageLoader.load(odd) }
    }

    func testNpyIntegerScaling() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        let u16 = dir.appendingPathComponent("a.npy")
        let vals: [UInt16] = [0, 65535, 1000, 300]
        try NpyArray(shape: [2, 2], dtype: .uint16, bytes: vals.withUnsafeBytes { Array($0) }).write(to: u16)
        let img = try ImageLoader.load(u16)
        XCTAssertEqual(img.width, 2); XCTAssertEqual(img.channels, 1)
        XCTAssertEqual(img.pixels[2], 1000 / 65535, accuracy: 1e-7)
        let u8 = dir.appendingPathComponent("b.npy")
        // HWC with alpha: alpha dropped.
        try NpyArray(shape: [1, 1, 4], uint8: [255, 51, 0, 7]).write(to: u8)
        let rgb = try ImageLoader.load(u8)
        XCTAssertEqual(rgb.channels, 3)
        XCTAssertEqual(rgb.pixels, [1, 0.2, 0])
    }

    func testNpyFloatPercentileAndNone() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        let url = dir.appendingPathComponent("f.npy")
        // 0…100: the 1st percentile is 1, the 99th is 99 (linear interpolation, n-1 = 100).
        try NpyArray(shape: [1, 101], floats: (0...100).map(Float.init)).write(to: url)
        let img = try ImageLoader.load(url)
        XCTAssertEqual(img.pixels[0], 0)          // below p1 → clamped
        XCTAssertEqual(img.pixels[50], 49.0 / 98.0, accuracy: 1e-6)
        XCTAssertEqual(img.pixels[100], 1)
        let raw = try ImageLoader.load(url, floatScaling: .none)
        XCTAssertEqual(raw.pixels[37], 37)
        XCTAssertEqual(try FloatScaling(parsing: "percentile:2:98"), .percentile(low: 2, high: 98))
        assertThrowsMentioning("float-scaling") { _ = try FloatScaling(parsing: "percentile:9:1") }
    }

    func testNpyUnsupportedDtypeShapeAndNaN() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        let i = dir.appendingPathComponent("ints.npy")
        try NpyArray(shape: [2, 2], ints: [1, 2, 3, 4]).write(to: i)
        assertThrowsMentioning("ints.npy") { _ = try ImageLoader.load(i) }
        assertThrowsMentioning("dtype") { _ = try ImageLoader.load(i) }
        let s = dir.appendingPathComponent("shape.npy")
        try NpyArray(shape: [2, 2, 2], floats: [Float](repeating: 1, count: 8)).write(to: s)
        assertThrowsMentioning("shape.npy") { _ = try ImageLoader.load(s) }
        let n = dir.appendingPathComponent("nan.npy")
        try NpyArray(shape: [1, 2], floats: [1, .nan]).write(to: n)
        assertThrowsMentioning("nan.npy") { _ = try ImageLoader.load(n) }
    }
}

final class AlphaPNGTests: XCTestCase {
    func testAlphaIsDroppedForRGBAAndGreyAlpha() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        let rgba = dir.appendingPathComponent("rgba.png")
        try PNGCodec.write8([255, 51, 0, 255, 0, 102, 204, 255], width: 2, height: 1, channels: 4, to: rgba)
        let (img, info) = try ImageLoader.loadWithInfo(rgba)
        XCTAssertTrue(info.hadAlpha)
        XCTAssertEqual(img.channels, 3)
        for (a, b) in zip(img.pixels, [1, 0.2, 0, 0, 0.4, 0.8] as [Float]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        let ga = dir.appendingPathComponent("ga16.png")
        try PNGCodec.write16([1000, 65535, 40000, 65535], width: 2, height: 1, channels: 2, to: ga)
        let (g, gi) = try ImageLoader.loadWithInfo(ga)
        XCTAssertEqual(gi.bitDepth, 16)
        XCTAssertEqual(g.channels, 1)
        XCTAssertEqual(g.pixels[0] * 65535, 1000, accuracy: 0.01)
        XCTAssertEqual(g.pixels[1] * 65535, 40000, accuracy: 0.01)
    }
}

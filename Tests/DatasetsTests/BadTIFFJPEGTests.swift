import Foundation
import SeafoldCore
import TestSupport
import XCTest
@testable import Datasets

/// Damaged TIFF and JPEG files: every one is a `SeafoldError` naming the file, never a crash,
/// an exit from libjpeg, or wrong pixels passed off as an image.
final class BadTIFFJPEGTests: XCTestCase {
    func write(_ bytes: [UInt8], _ name: String, in dir: URL) throws -> URL {
        let u = dir.appendingPathComponent(name)
        try Data(bytes).write(to: u)
        return u
    }

    func expectBad(_ url: URL, _ fragments: [String] = [], file: StaticString = #filePath, line: UInt = #line) {
        do {
            let img = try ImageLoader.load(url)
            XCTFail("loaded a bad image \(url.lastPathComponent): \(img.width)×\(img.height)", file: file, line: line)
        } catch let e as SeafoldError {
            XCTAssertTrue(e.description.contains(url.path), "error does not name the file: \(e)", file: file, line: line)
            for f in fragments { XCTAssertTrue(e.description.contains(f), "'\(e)' does not mention '\(f)'", file: file, line: line) }
        } catch {
            XCTFail("not a SeafoldError: \(error)", file: file, line: line)
        }
    }

    func bytes(_ fixture: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: Fixtures.url(fixture))) }

    func testTruncatedFilesNeverLoadWrongPixels() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        for name in ["grey8.tif", "grey16_deflate.tif", "rgb8_tiled.tif", "float32.tif", "grey.jpg", "rgb420.jpg", "rgb444_progressive.jpg"] {
            let good = try bytes(name)
            let original = try ImageLoader.load(Fixtures.url(name), floatScaling: .none)
            let ext = (name as NSString).pathExtension
            var cuts = [0, 1, 2, 3, 4, 7, 8, 9, 16, 100, good.count / 3, good.count / 2, good.count - 100, good.count - 9, good.count - 2, good.count - 1]
            cuts = cuts.filter { $0 >= 0 && $0 < good.count }
            for n in cuts {
                let u = try write(Array(good.prefix(n)), "cut_\(n).\(ext)", in: dir)
                do {
                    // A cut that only removes bytes the decoder never needs may still load, but
                    // then with exactly the original pixels.
                    let img = try ImageLoader.load(u, floatScaling: .none)
                    XCTAssertEqual(img, original, "\(name) cut at \(n) of \(good.count) loaded different pixels")
                } catch let e as SeafoldError {
                    XCTAssertTrue(e.description.contains(u.path), "\(e)")
                }
            }
        }
    }

    func testTruncatedJPEGIsAnErrorNotGrey() throws {
        // libjpeg fills the missing part with grey and only warns; seafold makes it an error.
        let dir = try makeTemporaryDirectory("seafold-ds")
        let good = try bytes("rgb444_progressive.jpg")
        expectBad(try write(Array(good.prefix(good.count / 2)), "half.jpg", in: dir), ["corrupt or truncated", "Premature end"])
        let base = try bytes("grey.jpg")
        expectBad(try write(Array(base.prefix(base.count - 2)), "no_eoi.jpg", in: dir), ["Premature end"])
    }

    func testWrongMagicEmptyAndText() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        let png = [UInt8](PNGForge.png(width: 4, height: 4, bitDepth: 8, colorType: 0))
        for ext in ["tif", "tiff", "jpg", "jpeg"] {
            expectBad(try write([], "empty.\(ext)", in: dir), ["not a readable"])
            expectBad(try write(Array("just notes, not a picture\n".utf8), "notes.\(ext)", in: dir), ["not a readable"])
            expectBad(try write(png, "png_inside.\(ext)", in: dir), ["not a readable"])
            var g = SeededGenerator(seed: 11)
            expectBad(try write((0..<400).map { _ in UInt8.random(in: 0...255, using: &g) }, "random.\(ext)", in: dir))
        }
        // A JPEG named .tif and a TIFF named .jpg.
        expectBad(try write(try bytes("grey.jpg"), "jpeg_inside.tif", in: dir), ["TIFF"])
        expectBad(try write(try bytes("grey8.tif"), "tiff_inside.jpg", in: dir), ["JPEG"])
        // TIFF magic only; JPEG SOI only; a folder and a missing file.
        expectBad(try write([0x49, 0x49, 42, 0], "magic.tif", in: dir))
        expectBad(try write([0xff, 0xd8], "soi.jpg", in: dir))
        let folder = dir.appendingPathComponent("folder.tif")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        expectBad(folder)
        expectBad(dir.appendingPathComponent("missing.jpeg"))
    }

    /// Sets a classic little-endian TIFF's first-IFD entry `tag` to `value` (SHORT or LONG).
    func patchTIFF(_ b: inout [UInt8], tag: UInt16, value: UInt32) {
        func u16(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
        let ifd = Int(b[4]) | Int(b[5]) << 8 | Int(b[6]) << 16 | Int(b[7]) << 24
        for i in 0..<u16(ifd) {
            let e = ifd + 2 + 12 * i
            guard u16(e) == Int(tag) else { continue }
            if u16(e + 2) == 3 { b[e + 8] = UInt8(min(value, 0xffff) & 0xff); b[e + 9] = UInt8(min(value, 0xffff) >> 8) }
            else { for k in 0..<4 { b[e + 8 + k] = UInt8((value >> (8 * UInt32(k))) & 0xff) } }
            return
        }
        XCTFail("tag \(tag) not found")
    }

    func testHugeAndZeroDimensions() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        for (w, h) in [(0, 7), (13, 0), (65535, 65535), (0x7fff_ffff, 2), (0xffff_ffff, 0xffff_ffff), (20000, 20000)] as [(UInt32, UInt32)] {
            var t = try bytes("rgb8_deflate.tif")
            patchTIFF(&t, tag: 256, value: w); patchTIFF(&t, tag: 257, value: h)
            expectBad(try write(t, "dims_\(w)x\(h).tif", in: dir))
        }
        var big = try bytes("rgb8_deflate.tif")
        patchTIFF(&big, tag: 256, value: 65535); patchTIFF(&big, tag: 257, value: 65535)
        expectBad(try write(big, "big.tif", in: dir), ["too large"])
        // A 37×21 image claiming 65520×65520 tiles (libFuzzer found the 3 GB allocation).
        var tiles = try bytes("rgb8_tiled.tif")
        patchTIFF(&tiles, tag: 322, value: 65520); patchTIFF(&tiles, tag: 323, value: 65520)
        expectBad(try write(tiles, "huge_tiles.tif", in: dir), ["out of proportion"])
        // JPEG: the frame header (SOF0 or SOF2) gives height and width as 16-bit big-endian.
        for (name, h, w) in [("grey.jpg", 65535, 65535), ("rgb420.jpg", 0, 27), ("rgb444_progressive.jpg", 30000, 30000)] {
            var j = try bytes(name)
            let sof = j.indices.first { $0 + 1 < j.count && j[$0] == 0xff && (j[$0 + 1] == 0xc0 || j[$0 + 1] == 0xc2) }!
            j[sof + 5] = UInt8(h >> 8); j[sof + 6] = UInt8(h & 0xff); j[sof + 7] = UInt8(w >> 8); j[sof + 8] = UInt8(w & 0xff)
            expectBad(try write(j, "dims_\(h)x\(w)_\(name)", in: dir))
        }
    }

    func testCorruptHeadersAndData() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        // TIFF: bits per sample 12, samples per pixel 2 for RGB, a strip offset past the end.
        var bps = try bytes("grey8.tif"); patchTIFF(&bps, tag: 258, value: 12)
        expectBad(try write(bps, "bps12.tif", in: dir))
        var off = try bytes("grey8.tif"); patchTIFF(&off, tag: 273, value: 0x7fff_0000)
        expectBad(try write(off, "offset.tif", in: dir))
        var comp = try bytes("grey8.tif"); patchTIFF(&comp, tag: 259, value: 60000)
        expectBad(try write(comp, "compression.tif", in: dir))
        // Deflate data overwritten with garbage.
        var z = try bytes("grey16_deflate.tif")
        for i in 8..<min(40, z.count) { z[i] = 0xA5 }
        expectBad(try write(z, "garbage_ifd_offset.tif", in: dir))
        // JPEG: a Huffman table and a quantisation table wrecked, and a stream of 0xFF bytes.
        var j = try bytes("grey.jpg")
        if let dht = j.indices.first(where: { $0 + 1 < j.count && j[$0] == 0xff && j[$0 + 1] == 0xc4 }) {
            for i in (dht + 4)..<(dht + 21) { j[i] = 0xff }
        }
        expectBad(try write(j, "dht.jpg", in: dir))
        var q = try bytes("grey.jpg")
        if let dqt = q.indices.first(where: { $0 + 1 < q.count && q[$0] == 0xff && q[$0 + 1] == 0xdb }) { q[dqt + 4] = 0x7f }
        expectBad(try write(q, "dqt.jpg", in: dir))
        expectBad(try write([0xff, 0xd8] + [UInt8](repeating: 0xff, count: 200), "ff.jpg", in: dir))
    }

    func testProbeOfBadFilesNamesTheFile() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        for ext in ["tif", "jpg"] {
            let u = try write(Array("nope".utf8), "probe.\(ext)", in: dir)
            XCTAssertThrowsError(try ImageLoader.probe(u)) { XCTAssertTrue("\($0)".contains(u.path), "\($0)") }
        }
        XCTAssertThrowsError(try ImageLoader.probe(Fixtures.url("two_pages.tif"))) { XCTAssertTrue("\($0)".contains("multi-page"), "\($0)") }
    }
}

import Foundation
import SeafoldCore
import TestSupport
import XCTest
@testable import Datasets

/// Hand-built PNG files (CRC-32 and stored zlib blocks written here), so tests can make any
/// bit depth / colour type combination, valid or not, without committed binaries.
enum PNGForge {
    static let signature: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xffff_ffff
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        return c ^ 0xffff_ffff
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }

    static func chunk(_ type: String, _ data: [UInt8], badCRC: Bool = false) -> [UInt8] {
        let t = Array(type.utf8)
        let crc = crc32(t + data) ^ (badCRC ? 1 : 0)
        return be32(UInt32(data.count)) + t + data + be32(crc)
    }

    /// zlib stream of stored (uncompressed) deflate blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var i = 0
        repeat {
            let n = min(65535, data.count - i)
            let last: UInt8 = i + n >= data.count ? 1 : 0
            out += [last, UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)]
            out += data[i..<(i + n)]
            i += n
        } while i < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for x in data { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        return out + be32(b << 16 | a)
    }

    static func ihdr(width: UInt32, height: UInt32, bitDepth: UInt8, colorType: UInt8, interlace: UInt8 = 0) -> [UInt8] {
        chunk("IHDR", be32(width) + be32(height) + [bitDepth, colorType, 0, 0, interlace])
    }

    static func channels(_ colorType: UInt8) -> Int {
        switch colorType { case 0: return 1; case 2: return 3; case 3: return 1; case 4: return 2; case 6: return 4; default: return 1 }
    }

    /// A complete PNG with rows of `fill` bytes (filter type 0). Palette images get a 256-entry PLTE.
    static func png(width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, fill: UInt8 = 0x5a,
                    extra: [UInt8] = [], rowsOverride: [UInt8]? = nil) -> Data {
        let rowBytes = (width * channels(colorType) * Int(bitDepth) + 7) / 8
        var raw: [UInt8] = []
        for _ in 0..<height { raw += [0] + [UInt8](repeating: fill, count: rowBytes) }
        var out = signature + ihdr(width: UInt32(width), height: UInt32(height), bitDepth: bitDepth, colorType: colorType)
        if colorType == 3 { out += chunk("PLTE", (0..<256).flatMap { [UInt8($0), UInt8(255 - $0), 7] }) }
        out += extra
        out += chunk("IDAT", zlibStored(rowsOverride ?? raw))
        out += chunk("IEND", [])
        return Data(out)
    }
}

final class BadImageTests: XCTestCase {
    func write(_ d: Data, _ name: String, in dir: URL) throws -> URL {
        let u = dir.appendingPathComponent(name)
        try d.write(to: u)
        return u
    }

    func expectBad(_ url: URL, _ fragments: [String] = [], file: StaticString = #filePath, line: UInt = #line) {
        do {
            let (img, info) = try ImageLoader.loadWithInfo(url)
            XCTFail("loaded a bad image \(url.lastPathComponent): \(img.width)×\(img.height) \(info)", file: file, line: line)
        } catch let e as SeafoldError {
            let text = e.description
            XCTAssertTrue(text.contains(url.path), "error does not name the file: \(text)", file: file, line: line)
            for f in fragments { XCTAssertTrue(text.contains(f), "error '\(text)' does not mention '\(f)'", file: file, line: line) }
        } catch {
            XCTFail("not a SeafoldError: \(error)", file: file, line: line)
        }
    }

    func testForgeMakesValidPNGs() throws {
        // The forge itself is right: standard combinations load with the expected layout.
        let dir = try makeTemporaryDirectory("seafold-ds")
        let cases: [(UInt8, UInt8, Int, Int)] = [  // bit depth, colour type, channels, depth reported
            (8, 0, 1, 8), (16, 0, 1, 16), (1, 0, 1, 8), (2, 0, 1, 8), (4, 0, 1, 8),
            (8, 2, 3, 8), (16, 2, 3, 16), (8, 3, 3, 8), (1, 3, 3, 8), (4, 3, 3, 8),
            (8, 4, 1, 8), (16, 4, 1, 16), (8, 6, 3, 8), (16, 6, 3, 16),
        ]
        for (bd, ct, ch, depth) in cases {
            let u = try write(PNGForge.png(width: 5, height: 3, bitDepth: bd, colorType: ct), "ok_\(bd)_\(ct).png", in: dir)
            let (img, info) = try ImageLoader.loadWithInfo(u)
            XCTAssertEqual(img.width, 5); XCTAssertEqual(img.height, 3)
            XCTAssertEqual(img.channels, ch, "bit depth \(bd) colour type \(ct)")
            XCTAssertEqual(info.bitDepth, depth, "bit depth \(bd) colour type \(ct)")
            XCTAssertTrue(img.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
    }

    func testWrongBitDepthsAndColourTypes() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        let bad: [(UInt8, UInt8)] = [
            (3, 0), (5, 0), (0, 0), (32, 0), (4, 2), (1, 2), (16, 3), (4, 4), (2, 6), (8, 1), (8, 5), (8, 7), (8, 255),
        ]
        for (bd, ct) in bad {
            let u = try write(PNGForge.png(width: 4, height: 4, bitDepth: bd, colorType: ct), "bad_\(bd)_\(ct).png", in: dir)
            expectBad(u, ["PNG"])
        }
    }

    func testLyingDimensions() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        // Zero and absurd sizes in IHDR (the data is for 4×4).
        for (w, h) in [(0, 4), (4, 0), (0x7fff_ffff, 1), (1, 0x8000_0000), (0xffff_ffff, 0xffff_ffff), (1_000_000, 1_000_000), (100_000, 100_000)] {
            var d = [UInt8](PNGForge.png(width: 4, height: 4, bitDepth: 8, colorType: 0))
            let ih = PNGForge.ihdr(width: UInt32(w), height: UInt32(h), bitDepth: 8, colorType: 0)
            d.replaceSubrange(8..<(8 + ih.count), with: ih)
            expectBad(try write(Data(d), "dims_\(w)x\(h).png", in: dir))
        }
        // IHDR says 64×64 but IDAT holds the rows of a 4×4 image.
        let small = PNGForge.png(width: 4, height: 4, bitDepth: 8, colorType: 0)
        var d = [UInt8](small)
        let ih = PNGForge.ihdr(width: 64, height: 64, bitDepth: 8, colorType: 0)
        d.replaceSubrange(8..<(8 + ih.count), with: ih)
        expectBad(try write(Data(d), "short_idat.png", in: dir), ["cannot decode PNG"])
    }

    func testTruncatedAtEveryChunkBoundaryAndMidway() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        let good = [UInt8](PNGForge.png(width: 16, height: 16, bitDepth: 16, colorType: 2))
        let cuts = [0, 1, 4, 8, 12, 16, 20, 29, 33, 40, good.count / 2, good.count - 20, good.count - 12, good.count - 1]
        for n in cuts where n < good.count {
            let u = try write(Data(good.prefix(n)), "trunc_\(n).png", in: dir)
            do {
                _ = try ImageLoader.load(u)
                // Only a cut inside IEND may still decode (libpng stops after the image data).
                XCTAssertGreaterThanOrEqual(n, good.count - 12, "truncated at \(n) of \(good.count) but loaded")
            } catch {
                XCTAssertTrue("\(error)".contains(u.path), "\(error)")
            }
        }
    }

    func testCorruptPNGs() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        let good = [UInt8](PNGForge.png(width: 8, height: 8, bitDepth: 8, colorType: 0))
        // Bad signature.
        var sig = good; sig[1] = 0x51
        expectBad(try write(Data(sig), "sig.png", in: dir), ["not a readable PNG"])
        // IHDR CRC wrong.
        var crc = good; crc[29] ^= 0xff
        expectBad(try write(Data(crc), "crc.png", in: dir))
        // Corrupt zlib header in IDAT (the first bytes after "IDAT").
        let idat = good.indices.first { Array(good[$0..<min($0 + 4, good.count)]) == Array("IDAT".utf8) }!
        var z = good; z[idat + 4] = 0x00; z[idat + 5] = 0x00
        expectBad(try write(Data(z), "zlib.png", in: dir))
        // Unknown filter type in a row, with a correct CRC.
        var rows: [UInt8] = []
        for _ in 0..<8 { rows += [9] + [UInt8](repeating: 1, count: 8) }
        expectBad(try write(PNGForge.png(width: 8, height: 8, bitDepth: 8, colorType: 0, rowsOverride: rows), "filter.png", in: dir))
        // Too little image data (zlib stream complete but short), correct CRCs.
        expectBad(try write(PNGForge.png(width: 8, height: 8, bitDepth: 8, colorType: 0, rowsOverride: [0, 1, 2]), "short.png", in: dir))
        // Palette image without PLTE; palette with an index past the palette's end.
        var noPLTE = [UInt8](PNGForge.png(width: 4, height: 4, bitDepth: 8, colorType: 3))
        if let p = noPLTE.indices.first(where: { Array(noPLTE[$0..<min($0 + 4, noPLTE.count)]) == Array("PLTE".utf8) }) {
            noPLTE.removeSubrange((p - 4)..<(p + 8 + 768))
        }
        expectBad(try write(Data(noPLTE), "noplte.png", in: dir))
        // Only the signature; empty file; random bytes; text named .png; a JPEG header named .png.
        expectBad(try write(Data(PNGForge.signature), "sigonly.png", in: dir))
        expectBad(try write(Data(), "empty.png", in: dir), ["not a readable PNG"])
        var g = SeededGenerator(seed: 7)
        expectBad(try write(Data((0..<300).map { _ in UInt8.random(in: 0...255, using: &g) }), "random.png", in: dir))
        expectBad(try write(Data("just some notes, not a picture\n".utf8), "notes.png", in: dir))
        expectBad(try write(Data([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46]), "photo.png", in: dir))
        // A directory named like an image.
        let d = dir.appendingPathComponent("folder.png")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        expectBad(d)
        // A missing file.
        expectBad(dir.appendingPathComponent("missing.png"))
        // An unsupported extension.
        expectBad(try write(Data("x".utf8), "image.gif", in: dir), ["unsupported image type"])
    }

    func testProbeOfBadFilesNamesTheFile() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        let u = try write(Data("nope".utf8), "probe.png", in: dir)
        XCTAssertThrowsError(try ImageLoader.probe(u)) { XCTAssertTrue("\($0)".contains(u.path), "\($0)") }
        let n = try write(Data("nope".utf8), "probe.npy", in: dir)
        XCTAssertThrowsError(try ImageLoader.probe(n)) { XCTAssertTrue("\($0)".contains(n.path), "\($0)") }
    }

    func testNpyImagesWithLyingHeaders() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        func npy(_ header: String, _ data: [UInt8]) -> Data {
            let h = Array(header.utf8)
            return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.count & 0xff), UInt8(h.count >> 8)] + h + data)
        }
        let cases: [(String, [UInt8], String)] = [
            ("{'descr': '|u1', 'fortran_order': False, 'shape': (64, 64), }", [1, 2, 3], "truncated"),
            ("{'descr': '>u2', 'fortran_order': False, 'shape': (2, 2), }", [UInt8](repeating: 0, count: 8), "unsupported dtype"),
            ("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2), }", [0, 0, 0, 0], "Fortran"),
            ("{'descr': '|u1', 'fortran_order': False, 'shape': (0, 4), }", [], "empty side"),
            ("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2), }", [UInt8](repeating: 0, count: 8), "not an image"),
            ("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", [0, 0, 0, 0], "not an image"),
            ("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1), }", [UInt8](repeating: 0, count: 8), "dtype"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", [0, 0, 0xc0, 0x7f], "finite"),
            ("{'descr': '<u2', 'fortran_order': False, 'shape': (-3, 2), }", [], "shape entry"),
        ]
        for (i, c) in cases.enumerated() {
            expectBad(try write(npy(c.0, c.1), "bad\(i).npy", in: dir), [c.2])
        }
    }

    func testImageFolderWithNonImagesEmptyClassAndBadFiles() throws {
        let root = try makeTemporaryDirectory("seafold-ds")
        let fm = FileManager.default
        for c in ["rock", "sand"] { try fm.createDirectory(at: root.appendingPathComponent(c), withIntermediateDirectories: true) }
        try PNGForge.png(width: 4, height: 4, bitDepth: 8, colorType: 0, fill: 1).write(to: root.appendingPathComponent("rock/a.png"))
        try PNGForge.png(width: 4, height: 4, bitDepth: 8, colorType: 0, fill: 2).write(to: root.appendingPathComponent("sand/b.png"))
        // Non-image files in class folders are skipped (counted) and rejected with --strict.
        try Data("notes".utf8).write(to: root.appendingPathComponent("rock/README.txt"))
        try Data([0x47, 0x49, 0x46]).write(to: root.appendingPathComponent("sand/scan.gif"))
        try Data().write(to: root.appendingPathComponent("sand/Thumbs.db"))
        let f = try ImageFolder(root: root)
        XCTAssertEqual(f.count, 2)
        XCTAssertEqual(Set(f.skipped), ["rock/README.txt", "sand/scan.gif", "sand/Thumbs.db"])
        XCTAssertThrowsError(try ImageFolder(root: root, strict: true)) { e in
            XCTAssertTrue("\(e)".contains("README.txt") && "\(e)".contains("not an image"), "\(e)")
        }
        // A class folder with only non-images and one that is empty: the error names the folder.
        try fm.createDirectory(at: root.appendingPathComponent("mud"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: root.appendingPathComponent("mud/readme.md"))
        XCTAssertThrowsError(try ImageFolder(root: root)) { e in
            XCTAssertTrue("\(e)".contains("'mud'") && "\(e)".contains("holds no images"), "\(e)")
        }
        try fm.removeItem(at: root.appendingPathComponent("mud/readme.md"))
        XCTAssertThrowsError(try ImageFolder(root: root)) { e in XCTAssertTrue("\(e)".contains("'mud'"), "\(e)") }
        // A hidden file alone does not make a class non-empty.
        try Data().write(to: root.appendingPathComponent("mud/.DS_Store"))
        XCTAssertThrowsError(try ImageFolder(root: root)) { e in XCTAssertTrue("\(e)".contains("'mud'"), "\(e)") }
        try fm.removeItem(at: root.appendingPathComponent("mud"))
        // A corrupt file with an image extension is listed, and loading it names the file.
        let bad = root.appendingPathComponent("sand/corrupt.png")
        try Data(PNGForge.signature + [0, 0, 0, 13]).write(to: bad)
        let g = try ImageFolder(root: root)
        XCTAssertEqual(g.count, 3)
        for s in g.samples where s.relativePath == "sand/corrupt.png" {
            XCTAssertThrowsError(try ImageLoader.load(s.url)) { XCTAssertTrue("\($0)".contains(bad.path), "\($0)") }
        }
        // A file where the root should be a folder.
        XCTAssertThrowsError(try ImageFolder(root: root.appendingPathComponent("rock/a.png"))) { e in
            XCTAssertTrue("\(e)".contains("a.png"), "\(e)")
        }
    }

    /// Regression (libFuzzer, fuzz-png crash-77911a03…): a float .npy whose values span only
    /// denormals made the percentile stretch compute 1/(b-a) = inf and return NaN pixels; values
    /// near ±Float.greatestFiniteMagnitude overflowed the same way. Pixels must stay in [0, 1].
    func testPercentileStretchOfExtremeFloatsStaysFinite() throws {
        let dir = try makeTemporaryDirectory("seafold-ds")
        let crash = try write(Data(base64Encoded: "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsLDEgLCkgMiB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgASAgICAgICAKAAAAAAAAAD8AAIA/AADAPwAAAEAAACBAAABAQAAAYEAAAIBAAABjYGBkoEAAALBA")!, "crash.npy", in: dir)
        let img = try ImageLoader.load(crash)
        XCTAssertTrue(img.pixels.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "\(img.pixels)")
        let m = Float.greatestFiniteMagnitude
        for values: [Float] in [[1e-44, 0, 3e-45, 0], [-m, m, 0, 1], [m, m, -m, -m], [.leastNonzeroMagnitude, 0, 0, 0]] {
            let u = dir.appendingPathComponent("x.npy")
            try NpyArray(shape: [2, 2], floats: values).write(to: u)
            let px = try ImageLoader.load(u).pixels
            XCTAssertTrue(px.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "\(values) -> \(px)")
        }
        XCTAssertEqual(ImageLoader.scale([0, 1, 2, 3, 4], .percentile(low: 0, high: 100)), [0, 0.25, 0.5, 0.75, 1])
    }
}

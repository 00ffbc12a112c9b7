import Foundation
import SeafoldCore
import TestSupport
import XCTest
@testable import Datasets

final class ImageFolderTests: XCTestCase {
    private func png(_ url: URL, _ v: Float) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try PNGWriter.write(Image(width: 4, height: 4, fill: v), to: url, bitDepth: 8)
    }

    func testLayoutLabelsSkipsAndDuplicates() throws {
        let root = try makeTemporaryDirectory("seafold-ds")
        try png(root.appendingPathComponent("rocky/b.png"), 0.1)
        try png(root.appendingPathComponent("rocky/a.png"), 0.2)
        try png(root.appendingPathComponent("flat/x.png"), 0.1)          // same bytes as rocky/b.png
        try NpyArray(shape: [2, 2], floats: [0, 1, 2, 3]).write(to: root.appendingPathComponent("flat/y.npy"))
        try Data("notes".utf8).write(to: root.appendingPathComponent("flat/readme.txt"))
        let f = try ImageFolder(root: root)
        XCTAssertEqual(f.classes, ["flat", "rocky"])
        XCTAssertEqual(f.samples.map(\.relativePath), ["flat/x.png", "flat/y.npy", "rocky/a.png", "rocky/b.png"])
        XCTAssertEqual(f.labels, [0, 0, 1, 1])
        XCTAssertEqual(f.skipped, ["flat/readme.txt"])
        XCTAssertEqual(f.duplicates, [["flat/x.png", "rocky/b.png"]])
        XCTAssertTrue(f.warnings.contains { $0.contains("different classes") })
        assertThrowsMentioning("readme.txt") { _ = try ImageFolder(root: root, strict: true) }
    }

    func testNestedFilesInTorchvisionOrder() throws {
        // torchvision: sorted(os.walk(class_dir)) then sorted(fnames) — by folder, then name.
        // Python: sorted(["flat", "flat/a", "flat/a/b", "flat/a-b", "flat/b"]) ==
        // ["flat", "flat/a", "flat/a-b", "flat/a/b", "flat/b"] ('-' < '/'); a plain path sort
        // would put flat/a/b/x.png before flat/a/y.png and flat/z.png last.
        let root = try makeTemporaryDirectory("seafold-ds")
        for (i, p) in ["flat/z.png", "flat/a/b/x.png", "flat/a/y.png", "flat/a-b/w.png", "flat/b/c.png", "rocky/r.png"].enumerated() {
            try png(root.appendingPathComponent(p), Float(i) / 10)
        }
        let f = try ImageFolder(root: root)
        XCTAssertEqual(f.samples.map(\.relativePath),
                       ["flat/z.png", "flat/a/y.png", "flat/a-b/w.png", "flat/a/b/x.png", "flat/b/c.png", "rocky/r.png"])
    }

    func testEmptyClassOneClassAndMissingRoot() throws {
        let root = try makeTemporaryDirectory("seafold-ds")
        try png(root.appendingPathComponent("flat/x.png"), 0.1)
        assertThrowsMentioning("only one class") { _ = try ImageFolder(root: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("craters"), withIntermediateDirectories: true)
        assertThrowsMentioning("craters") { _ = try ImageFolder(root: root) }
        assertThrowsMentioning("does not exist") { _ = try ImageFolder(root: root.appendingPathComponent("nope")) }
    }

    func testContentHashSeparatesSmallEdits() {
        let a = Data((0..<1000).map { UInt8($0 & 255) })
        var b = a; b[999] ^= 1
        XCTAssertNotEqual(ContentHash.hash64(a), ContentHash.hash64(b))
        XCTAssertEqual(ContentHash.hash64(a), ContentHash.hash64(Data(a)))
    }
}

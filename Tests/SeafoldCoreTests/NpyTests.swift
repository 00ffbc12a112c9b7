import XCTest
import Foundation
@testable import SeafoldCore

final class NpyTests: XCTestCase {
    func testRoundTripFloat32() throws {
        let a = NpyArray(shape: [2, 3], floats: [1, 2, 3, 4.5, -5, 6])
        let d = a.encoded()
        // Header (magic + version + length + text) is a multiple of 64 bytes, as NumPy writes it.
        XCTAssertEqual((d.count - 24) % 64, 0)
        let b = try NpyArray.decode(d)
        XCTAssertEqual(b.shape, [2, 3])
        XCTAssertEqual(b.floats(), [1, 2, 3, 4.5, -5, 6])
    }

    func testHeaderTextMatchesNumpy() throws {
        let d = NpyArray(shape: [3], ints: [1, 2, 3]).encoded()
        let text = String(decoding: d[10..<(10 + Int(d[8]))], as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"))
        XCTAssertEqual(try NpyArray.decode(d).ints(), [1, 2, 3])
    }

    func testTruncatedDataIsAnError() {
        var d = NpyArray(shape: [4, 4], floats: Array(repeating: 1, count: 16)).encoded()
        d.removeLast(5)
        XCTAssertThrowsError(try NpyArray.decode(d, source: "x.npy")) { e in
            XCTAssertTrue("\(e)".contains("x.npy"))
            XCTAssertTrue("\(e)".contains("truncated"))
        }
    }

    func testBadMagicAndDtype() {
        XCTAssertThrowsError(try NpyArray.decode(Data([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])))
        var d = NpyArray(shape: [1], floats: [1]).encoded()
        // '<f4' -> '>f4' (big-endian) is unsupported.
        if let r = d.range(of: Data("<f4".utf8)) { d.replaceSubrange(r, with: Data(">f4".utf8)) }
        XCTAssertThrowsError(try NpyArray.decode(d)) { e in XCTAssertTrue("\(e)".contains("dtype")) }
    }
}

import Foundation
import XCTest
@testable import SeafoldCore

/// Bad-input corpus for the .npy reader: every lying header must give a `SeafoldError` that
/// names the file and the problem, never a crash or an allocation the size of the lie.
final class NpyBadInputTests: XCTestCase {
    /// An .npy file with arbitrary header text (version 1 unless `major` says otherwise).
    static func npy(_ header: String, data: [UInt8] = [], major: UInt8 = 1, lengthOverride: Int? = nil) -> Data {
        let h = Array(header.utf8)
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [major, 0]
        let n = lengthOverride ?? h.count
        if major == 1 {
            out += [UInt8(n & 0xff), UInt8((n >> 8) & 0xff)]
        } else {
            out += [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), UInt8((n >> 16) & 0xff), UInt8((n >> 24) & 0xff)]
        }
        return Data(out + h + data)
    }

    static func dict(descr: String = "<f4", fortran: String = "False", shape: String) -> String {
        "{'descr': '\(descr)', 'fortran_order': \(fortran), 'shape': \(shape), }\n"
    }

    /// Decoding must throw a SeafoldError naming `source` and containing every fragment.
    func expectBad(_ data: Data, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            let a = try NpyArray.decode(data, source: "corpus/bad.npy")
            XCTFail("decoded a bad file as shape \(a.shape)", file: file, line: line)
        } catch let e as SeafoldError {
            let text = e.description
            XCTAssertTrue(text.contains("corpus/bad.npy"), "error does not name the file: \(text)", file: file, line: line)
            for f in fragments { XCTAssertTrue(text.contains(f), "error '\(text)' does not mention '\(f)'", file: file, line: line) }
        } catch {
            XCTFail("not a SeafoldError: \(error)", file: file, line: line)
        }
    }

    func testShapeLargerThanData() {
        expectBad(Self.npy(Self.dict(shape: "(4, 4)"), data: [UInt8](repeating: 0, count: 16)), ["truncated", "64 bytes"])
        expectBad(Self.npy(Self.dict(shape: "(1000000000,)")), ["truncated"])
    }

    func testNegativeHugeAndOverflowingDims() {
        expectBad(Self.npy(Self.dict(shape: "(-1, 4)")), ["shape entry '-1'"])
        expectBad(Self.npy(Self.dict(shape: "(1099511627776,)")), ["shape entry"])              // 2^40
        expectBad(Self.npy(Self.dict(shape: "(99999999999999999999999,)")), ["shape entry"])     // not an Int
        expectBad(Self.npy(Self.dict(shape: "(1048576, 1048576, 1048576)")), ["absurdly large"])
        expectBad(Self.npy(Self.dict(shape: "(3, x)")), ["shape entry 'x'"])
        expectBad(Self.npy(Self.dict(shape: "(2.5,)")), ["shape entry '2.5'"])
    }

    func testBigEndianAndUnsupportedDtypes() {
        for d in [">f4", ">i8", ">u2", "<f2", "<c8", "|O", "<U8", "S3", ""] {
            expectBad(Self.npy(Self.dict(descr: d, shape: "(1,)"), data: [0, 0, 0, 0, 0, 0, 0, 0]), ["unsupported dtype '\(d)'"])
        }
    }

    func testFortranOrder() {
        expectBad(Self.npy(Self.dict(fortran: "True", shape: "(2, 2)"), data: [UInt8](repeating: 0, count: 16)), ["Fortran"])
    }

    func testLyingHeaderLengthsAndVersions() {
        expectBad(Self.npy(Self.dict(shape: "(1,)"), lengthOverride: 60000), ["header length 60000"])
        expectBad(Self.npy(Self.dict(shape: "(1,)"), major: 2, lengthOverride: 0x7fff_ffff), ["header length"])
        expectBad(Self.npy(Self.dict(shape: "(1,)"), major: 3, lengthOverride: 0xffff_ffff), ["header length"])
        expectBad(Data([0x93] + Array("NUMPY".utf8) + [2, 0, 5, 0]), ["truncated header length"])
        expectBad(Self.npy(Self.dict(shape: "(1,)"), major: 9), ["unsupported format version 9"])
        expectBad(Self.npy(Self.dict(shape: "(1,)"), major: 0), ["unsupported format version 0"])
    }

    func testMissingFieldsAndGarbageHeaders() {
        expectBad(Self.npy("{'fortran_order': False, 'shape': (1,), }"), ["no 'descr'"])
        expectBad(Self.npy("{'descr': '<f4', 'fortran_order': False, }"), ["no 'shape'"])
        expectBad(Self.npy("{'descr': '<f4', 'shape': (1, "), ["no 'shape'"])
        expectBad(Self.npy(""), ["no 'descr'"])
        var d = Self.npy(Self.dict(shape: "(1,)"), data: [0, 0, 0, 0])
        d[12] = 0xff; d[13] = 0xfe  // invalid UTF-8 inside the header
        expectBad(d, ["not text"])
    }

    func testNotAnNpyFile() {
        expectBad(Data(), ["magic"])
        expectBad(Data([0x93, 0x4e]), ["magic"])
        expectBad(Data("PK\u{3}\u{4} this is a zip".utf8), ["magic"])
        expectBad(Data([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), ["magic"])
    }

    func testDataFromANonZeroStartIndexSlice() throws {
        // A Data slice (as a network buffer would give) decodes the same as a fresh copy.
        let good = NpyArray(shape: [2], floats: [1, 2]).encoded()
        let padded = Data([1, 2, 3]) + good
        let slice = padded[3...]
        XCTAssertEqual(try NpyArray.decode(slice).floats(), [1, 2])
    }

    func testReadNamesMissingFile() {
        let url = URL(fileURLWithPath: "/nonexistent/seafold/x.npy")
        XCTAssertThrowsError(try NpyArray.read(from: url)) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/seafold/x.npy"), "\(e)")
        }
    }

    /// Every prefix of a valid file is rejected with an error naming it (truncation anywhere).
    func testEveryTruncationOfAValidFile() {
        let good = NpyArray(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6]).encoded()
        for n in 0..<good.count {
            XCTAssertThrowsError(try NpyArray.decode(good.prefix(n), source: "corpus/bad.npy")) { e in
                XCTAssertTrue("\(e)".contains("corpus/bad.npy"))
            }
        }
    }

    /// Regression (libFuzzer, fuzz-npy crash-3cc7c2a4…): a float64 scalar of about -1e269 made
    /// `ints()` trap ("Float value cannot be converted to Int"). Now an error naming the element.
    func testIntsOfNonIntegralFloatsIsAnErrorNotATrap() throws {
        let crash = Data(base64Encoded: "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYVtsc2UsICdzaGFwZSc6ICgpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKAAAAAAAA+D8=")!
        let a = try NpyArray.decode(crash, source: "crash.npy")
        XCTAssertThrowsError(try a.ints(source: "crash.npy")) { XCTAssertTrue("\($0)".contains("crash.npy") && "\($0)".contains("element 0"), "\($0)") }
        for bad in [Float.nan, .infinity, -.infinity, 1e30] {
            XCTAssertThrowsError(try NpyArray(shape: [2], floats: [1, bad]).ints(source: "labels.npy")) {
                XCTAssertTrue("\($0)".contains("labels.npy: element 1"), "\($0)")
            }
        }
        XCTAssertThrowsError(try NpyArray(shape: [1], doubles: [9.3e18]).ints())
        XCTAssertEqual(try NpyArray(shape: [3], doubles: [2.9, -2.9, 16_777_217]).ints(), [2, -2, 16_777_217])
    }
}

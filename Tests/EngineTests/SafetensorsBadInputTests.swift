import Foundation
import TestSupport
import XCTest
@testable import Engine
import SeafoldCore

/// Bad-input corpus for the safetensors reader: lying headers must give a `SeafoldError` that
/// names the file and (where there is one) the tensor, never a crash or a huge allocation.
final class SafetensorsBadInputTests: XCTestCase {
    /// A file with `header` as its JSON text and `body` as its data section.
    static func file(_ header: String, body: [UInt8] = [], lengthOverride: UInt64? = nil) -> Data {
        let h = Array(header.utf8)
        var n = (lengthOverride ?? UInt64(h.count)).littleEndian
        var out = Data()
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(contentsOf: h)
        out.append(contentsOf: body)
        return out
    }

    func expectBad(_ data: Data, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            let r = try Safetensors.decode(data, source: "corpus/bad.safetensors")
            XCTFail("decoded a bad file: \(r.tensors.keys.sorted())", file: file, line: line)
        } catch let e as SeafoldError {
            let text = e.description
            XCTAssertTrue(text.contains("corpus/bad.safetensors"), "error does not name the file: \(text)", file: file, line: line)
            for f in fragments { XCTAssertTrue(text.contains(f), "error '\(text)' does not mention '\(f)'", file: file, line: line) }
        } catch {
            XCTFail("not a SeafoldError: \(error)", file: file, line: line)
        }
    }

    let eight = [UInt8](repeating: 0, count: 8)

    func testOffsetsPastTheEnd() {
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, body: [0, 0, 0, 0]), ["'w'", "data_offsets", "4-byte"])
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[1000000,1000008]}}"#, body: eight), ["'w'", "data_offsets"])
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#, body: eight), ["'w'", "data_offsets"])
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, body: eight), ["'w'", "data_offsets"])
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,9223372036854775807]}}"#, body: eight), ["'w'", "data_offsets"])
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,1e300]}}"#, body: eight), ["'w'"])
    }

    func testOverlappingTensors() {
        let h = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        expectBad(Self.file(h, body: [UInt8](repeating: 0, count: 12)), ["'a'", "'b'", "overlap"])
        let same = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        expectBad(Self.file(same, body: [0, 0, 0, 0]), ["overlap"])
    }

    func testAbsurdShapes() {
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,8]}}"#, body: eight), ["'w'", "shape"])
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, body: eight), ["'w'", "shape"])
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":[1048576,1048576,1048576,1048576],"data_offsets":[0,8]}}"#, body: eight), ["'w'"])
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}"#, body: eight), ["'w'", "shape"])
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, body: eight), ["'w'", "needs 12 bytes", "give 8"])
    }

    /// Regression: shape [2^31, 2^31] has 2^62 elements (no overflow) but 2^64 bytes; the byte
    /// count used to overflow (a trap in debug; with -Ounchecked it wrapped to 0 and matched
    /// empty data_offsets, making a Tensor whose shape lied about its storage).
    func testByteCountOverflowRegression() {
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":[2147483648,2147483648],"data_offsets":[0,0]}}"#), ["'w'"])
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}}"#), ["'w'"])
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":[1073741824,1073741824,4],"data_offsets":[0,0]}}"#), ["'w'"])
    }

    func testHeaderLengthLies() {
        let h = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        expectBad(Self.file(h, body: eight, lengthOverride: 1 << 20), ["header length 1048576"])
        expectBad(Self.file(h, body: eight, lengthOverride: UInt64.max), ["header length"])
        expectBad(Self.file(h, body: eight, lengthOverride: 1 << 63), ["header length"])
        expectBad(Self.file(h, body: eight, lengthOverride: 0), ["header length 0"])
        expectBad(Self.file(h, body: eight, lengthOverride: 1), ["header length 1"])
        expectBad(Data([1, 2, 3]), ["3 bytes"])
        expectBad(Data(), ["0 bytes"])
    }

    func testNonJSONHeaders() {
        expectBad(Self.file("not json at all", body: eight), ["not a JSON object"])
        expectBad(Self.file("[1, 2, 3]", body: eight), ["not a JSON object"])
        expectBad(Self.file("\"text\"", body: eight), ["not a JSON object"])
        expectBad(Self.file(#"{"w": {"dtype": "F32", "#, body: eight), ["not a JSON object"])
        expectBad(Self.file(String(repeating: "[", count: 100_000), body: eight), ["not a JSON object"])
        var bin = Self.file(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, body: eight)
        bin[10] = 0xff
        expectBad(bin, ["not a JSON object"])
    }

    func testWrongDtypesAndEntryShapes() {
        for dt in ["F16", "BF16", "F64", "I64", "U8", "BOOL", "f32", ""] {
            expectBad(Self.file(#"{"w":{"dtype":"\#(dt)","shape":[2],"data_offsets":[0,8]}}"#, body: eight), ["'w'", "dtype \(dt) is not supported"])
        }
        expectBad(Self.file(#"{"w":{"dtype":32,"shape":[2],"data_offsets":[0,8]}}"#, body: eight), ["'w'", "dtype"])
        expectBad(Self.file(#"{"w":{"shape":[2],"data_offsets":[0,8]}}"#, body: eight), ["'w'", "missing dtype"])
        expectBad(Self.file(#"{"w":[1,2]}"#, body: eight), ["'w'", "not an object"])
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}"#, body: eight), ["'w'", "shape"])
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}"#, body: eight), ["'w'", "data_offsets"])
        expectBad(Self.file(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":["0","8"]}}"#, body: eight), ["'w'", "data_offsets"])
        expectBad(Self.file(#"{"__metadata__":{"format":3}}"#), ["__metadata__", "format"])
        expectBad(Self.file(#"{"__metadata__":[1]}"#), ["__metadata__"])
    }

    func testEveryTruncationOfAValidFileIsAnError() throws {
        let good = try Safetensors.encode(["a": Tensor(shape: [2, 2], data: [1, 2, 3, 4]), "b": Tensor(shape: [3], data: [5, 6, 7])])
        XCTAssertNoThrow(try Safetensors.decode(good))
        for n in 0..<good.count {
            XCTAssertThrowsError(try Safetensors.decode(good.prefix(n), source: "corpus/bad.safetensors"), "prefix \(n)") { e in
                XCTAssertTrue("\(e)".contains("corpus/bad.safetensors"), "\(e)")
            }
        }
    }

    func testReadNamesTheFileAndModelLoadNamesTheKey() throws {
        let url = try makeTemporaryDirectory("seafold-bad").appendingPathComponent("garbage.safetensors")
        try Data("garbage, not weights".utf8).write(to: url)
        XCTAssertThrowsError(try Safetensors.read(from: url)) { XCTAssertTrue("\($0)".contains(url.path), "\($0)") }
        XCTAssertThrowsError(try Safetensors.read(from: URL(fileURLWithPath: "/nonexistent/w.safetensors"))) {
            XCTAssertTrue("\($0)".contains("/nonexistent/w.safetensors"), "\($0)")
        }
        // A well-formed file whose tensors do not fit the model: the error names the key and shapes.
        let net = try AlexNet(config: AlexNetConfig(numClasses: 2, widthMultiplier: 0.0625, inputSize: 63, hiddenWidth: 8), seed: 0)
        var sd = net.stateDict()
        let k = sd.keys.sorted()[0]
        sd[k] = Tensor(shape: [1], data: [0])
        XCTAssertThrowsError(try net.load(stateDict: sd)) { XCTAssertTrue("\($0)".contains(k) && "\($0)".contains("[1]"), "\($0)") }
        sd.removeValue(forKey: k)
        XCTAssertThrowsError(try net.load(stateDict: sd)) { XCTAssertTrue("\($0)".contains(k), "\($0)") }
    }
}

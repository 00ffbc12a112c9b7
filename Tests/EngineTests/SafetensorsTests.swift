import TestSupport
import XCTest
@testable import Engine
import SeafoldCore

final class SafetensorsTests: XCTestCase {
    func testRoundTripLayoutAndMetadata() throws {
        let t: [String: Tensor] = ["b": Tensor(shape: [2], data: [1, -2]), "a": Tensor(shape: [1, 3], data: [0.5, 1e-30, 3])]
        let d = try Safetensors.encode(t, metadata: ["format": "pt"])
        let n = Int(d[0]) | Int(d[1]) << 8
        XCTAssertEqual(n % 8, 0)
        let header = String(decoding: d[8..<(8 + n)], as: UTF8.self)
        XCTAssert(header.contains("\"a\":{\"dtype\":\"F32\",\"shape\":[1,3],\"data_offsets\":[0,12]}"), header)
        XCTAssert(header.contains("\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}"), header)
        XCTAssertEqual(d.count, 8 + n + 20)
        // First data float is 0.5 = 0x3F000000 little-endian.
        XCTAssertEqual(Array(d[(8 + n)..<(8 + n + 4)]), [0, 0, 0, 0x3F])
        let (back, meta) = try Safetensors.decode(d)
        XCTAssertEqual(back, t); XCTAssertEqual(meta, ["format": "pt"])
        let url = try makeTemporaryDirectory("seafold-st").appendingPathComponent("alexnet.safetensors")
        let net = try AlexNet(config: AlexNetTests.tiny, seed: 1)
        try Safetensors.write(net.stateDict(), metadata: [:], to: url)
        let other = try AlexNet(config: AlexNetTests.tiny, seed: 2)
        try other.load(stateDict: Safetensors.read(from: url).tensors)
        XCTAssertEqual(other.stateDict(), net.stateDict())
    }

    func testBadHeadersNameTheProblem() throws {
        func make(_ json: String, body: Int) -> Data {
            var h = Array(json.utf8); while h.count % 8 != 0 { h.append(0x20) }
            var d = Data(); var n = UInt64(h.count)
            withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
            d.append(contentsOf: h); d.append(Data(count: body)); return d
        }
        func expect(_ d: Data, _ needle: String, line: UInt = #line) {
            XCTAssertThrowsError(try Safetensors.decode(d), line: line) { XCTAssert("\($0)".contains(needle), "\($0)", line: line) }
        }
        expect(Data([1, 2, 3]), "shorter")
        expect(Data([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 1, 2]), "header length")
        expect(make("not json", body: 0), "JSON")
        expect(make("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", body: 8), "'w'")
        expect(make("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", body: 8), "'w'")
        expect(make("{\"w\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]}}", body: 8), "F16")
        expect(make("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", body: 12), "overlap")
        expect(make("{\"__metadata__\":{\"a\":1}}", body: 0), "__metadata__")
    }
}

import Foundation
import TestSupport
import XCTest
@testable import Hashing

/// SHA-256 through libcrypto against the FIPS 180-4 / NIST example vectors and `sha256sum`.
final class SHA256Tests: XCTestCase {
    func testNISTVectors() {
        XCTAssertEqual(SHA256.hex(data: Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(data: Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(data: Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(data: Data(repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        XCTAssertEqual(SHA256.hash(data: Data("abc".utf8)).count, 32)
    }

    /// The million-'a' vector fed in pieces whose sizes straddle the 64-byte block at odd places.
    func testSplitUpdatesMatchOneShot() {
        let h = SHA256()
        let sizes = [0, 1, 63, 64, 65, 7, 127, 129, 1000, 4095, 3]
        var fed = 0, i = 0
        while fed < 1_000_000 {
            let n = min(sizes[i % sizes.count], 1_000_000 - fed)
            h.update(data: Data(repeating: UInt8(ascii: "a"), count: n))
            fed += n; i += 1
        }
        XCTAssertEqual(h.finalizeHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // finalize resets to the empty message.
        XCTAssertEqual(h.finalizeHex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        h.update("ab"); h.update(""); h.update([UInt8(ascii: "c")])
        XCTAssertEqual(h.finalizeHex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// A 5 MB + 17 byte pseudo-random file streamed in 1 MiB chunks equals `sha256sum` of it.
    func testStreamedFileMatchesSha256sum() throws {
        let tool = ["/usr/bin/sha256sum", "/bin/sha256sum"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let tool else { throw XCTSkip("sha256sum not installed") }
        var state: UInt64 = 0x9E3779B97F4A7C15
        var bytes = [UInt8](repeating: 0, count: 5 << 20 + 17)
        for i in bytes.indices {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            bytes[i] = UInt8(truncatingIfNeeded: state >> 24)
        }
        let url = try makeTemporaryDirectory("sha256").appendingPathComponent("data.bin")
        try Data(bytes).write(to: url)

        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let h = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { h.update(data: chunk) }
        let ours = h.finalizeHex()

        let r = try ChildProcess.run(URL(fileURLWithPath: tool), [url.path])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(ours, String(r.stdout.prefix(64)))
        XCTAssertEqual(SHA256.hex(data: Data(bytes)), ours)
    }
}

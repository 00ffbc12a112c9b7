@testable import Cluster
import Foundation
import XCTest

/// The artifact store's three hashing paths (inline writer, background writer, re-hash of a
/// stored file) give the NIST SHA-256 of the million-'a' message appended in odd-sized pieces.
final class ArtifactHashParityTests: XCTestCase {
    let millionA = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

    func testWritersAndRehashGiveNISTDigest() throws {
        let s = try ArtifactStore(root: tempDir("hash-parity"))
        for background in [false, true] {
            let w = try s.beginWrite(background: background)
            var fed = 0, i = 0
            let sizes = [1, 63, 65, 4097, 12_345, 0, 131_071]
            while fed < 1_000_000 {
                let n = min(sizes[i % sizes.count], 1_000_000 - fed)
                try w.append(Data(repeating: UInt8(ascii: "a"), count: n))
                fed += n; i += 1
            }
            XCTAssertEqual(try w.commit(expected: millionA), millionA, "background: \(background)")
        }
        XCTAssertEqual(try ArtifactStore.sha256(of: try s.path(for: millionA)), millionA)
        XCTAssertEqual(ArtifactStore.sha256(Data(repeating: UInt8(ascii: "a"), count: 1_000_000)), millionA)
        XCTAssertEqual(ArtifactStore.sha256(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}

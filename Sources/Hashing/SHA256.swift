import COpenSSL
import Foundation

/// SHA-256 (FIPS 180-4) through the system's OpenSSL libcrypto, using the EVP digest API that
/// OpenSSL 3 recommends (EVP_MD_CTX_new / EVP_DigestInit_ex(EVP_sha256()) / EVP_DigestUpdate /
/// EVP_DigestFinal_ex), so the hashing runs on libcrypto's SHA-NI/AVX code where the CPU has it.
/// Incremental: `update` any number of times, then `finalize`, which returns the 32-byte digest
/// and resets the hasher to the empty message. A reference type: the context is one C object,
/// so a copy of the reference shares its state (use one hasher per stream).
public final class SHA256 {
    public static let byteCount = 32
    private let ctx: OpaquePointer

    public init() {
        // Only allocation failure or a libcrypto without SHA-256 fail here: no input can cause it.
        guard let c = EVP_MD_CTX_new() else { fatalError("libcrypto: EVP_MD_CTX_new failed (out of memory)") }
        ctx = c
        SHA256.initialize(ctx)
    }

    deinit { EVP_MD_CTX_free(ctx) }

    private static func initialize(_ ctx: OpaquePointer) {
        guard EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else {
            fatalError("libcrypto: EVP_DigestInit_ex(EVP_sha256()) failed; is OpenSSL's default provider available?")
        }
    }

    public func update(bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard EVP_DigestUpdate(ctx, base, bytes.count) == 1 else { fatalError("libcrypto: EVP_DigestUpdate failed") }
    }

    public func update(data: Data) { data.withUnsafeBytes { update(bytes: $0) } }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update(bytes: $0) } }

    public func update(_ string: String) { update(Array(string.utf8)) }

    /// The digest of everything given since creation (or the last `finalize`); resets the hasher.
    public func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: SHA256.byteCount)
        var n: UInt32 = 0
        let ok = out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(ctx, $0.baseAddress, &n) }
        guard ok == 1, n == UInt32(SHA256.byteCount) else { fatalError("libcrypto: EVP_DigestFinal_ex failed") }
        SHA256.initialize(ctx)
        return out
    }

    /// `finalize()` as lowercase hex (what `sha256sum` prints).
    public func finalizeHex() -> String { SHA256.hex(finalize()) }

    public static func hash(data: Data) -> [UInt8] {
        let h = SHA256(); h.update(data: data); return h.finalize()
    }

    public static func hex(data: Data) -> String { hex(hash(data: data)) }

    public static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var s = [UInt8](); s.reserveCapacity(64)
        for b in bytes { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
        return String(decoding: s, as: UTF8.self)
    }
}

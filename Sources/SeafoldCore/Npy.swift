import Foundation

/// A NumPy .npy array (format versions 1.0–3.0), as `numpy.save` writes and `numpy.load` reads.
///
/// Supported dtypes: little-endian float32/float64/int32/int64/uint8/uint16 (and `|u1`, `|b1`),
/// C order only. Readers convert to Float or Int; writers produce version 1.0 files with the
/// header padded to a multiple of 64 bytes, exactly like NumPy.
public struct NpyArray: Equatable, Sendable {
    public enum DType: String, Sendable, CaseIterable {
        case float32 = "<f4", float64 = "<f8", int32 = "<i4", int64 = "<i8", uint8 = "|u1", uint16 = "<u2", bool = "|b1"
        public var size: Int {
            switch self {
            case .float32, .int32: return 4
            case .float64, .int64: return 8
            case .uint8, .bool: return 1
            case .uint16: return 2
            }
        }
    }

    public var shape: [Int]
    public var dtype: DType
    /// Raw little-endian element bytes, C order.
    public var bytes: [UInt8]

    public var count: Int { shape.reduce(1, *) }

    public init(shape: [Int], dtype: DType, bytes: [UInt8]) {
        self.shape = shape
        self.dtype = dtype
        self.bytes = bytes
    }

    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) does not hold \(floats.count) values")
        self.shape = shape
        self.dtype = .float32
        self.bytes = floats.withUnsafeBytes { Array($0) }
    }

    public init(shape: [Int], doubles: [Double]) {
        precondition(shape.reduce(1, *) == doubles.count)
        self.shape = shape
        self.dtype = .float64
        self.bytes = doubles.withUnsafeBytes { Array($0) }
    }

    public init(shape: [Int], ints: [Int]) {
        precondition(shape.reduce(1, *) == ints.count)
        self.shape = shape
        self.dtype = .int64
        self.bytes = ints.map { Int64($0) }.withUnsafeBytes { Array($0) }
    }

    public init(shape: [Int], uint8 values: [UInt8]) {
        precondition(shape.reduce(1, *) == values.count)
        self.shape = shape
        self.dtype = .uint8
        self.bytes = values
    }

    /// Elements converted to Float (uint8/uint16 keep their integer value; no scaling).
    public func floats() -> [Float] {
        let n = count
        return bytes.withUnsafeBytes { raw -> [Float] in
            switch dtype {
            case .float32: return (0..<n).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
            case .float64: return (0..<n).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self)) }
            case .int32: return (0..<n).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
            case .int64: return (0..<n).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            case .uint8, .bool: return raw.map { Float($0) }
            case .uint16: return (0..<n).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
            }
        }
    }

    /// Elements converted to Double.
    public func doubles() -> [Double] {
        if dtype == .float64 {
            let n = count
            return bytes.withUnsafeBytes { raw in (0..<n).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) } }
        }
        return floats().map(Double.init)
    }

    /// Elements converted to Int (floats are truncated). A float element that is NaN, infinite
    /// or beyond Int's range is an error naming `source` and the element (it used to trap).
    public func ints(source: String = "<array>") throws -> [Int] {
        let n = count
        if dtype == .float32 || dtype == .float64 {
            var out = [Int](); out.reserveCapacity(n)
            for (i, v) in doubles().enumerated() {
                guard let k = Int(exactly: v.rounded(.towardZero)) else {
                    throw SeafoldError.badInput(path: source, reason: "element \(i) is \(v), not convertible to an integer")
                }
                out.append(k)
            }
            return out
        }
        return bytes.withUnsafeBytes { raw -> [Int] in
            switch dtype {
            case .int64: return (0..<n).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            case .int32: return (0..<n).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
            case .uint8, .bool: return raw.map { Int($0) }
            case .uint16: return (0..<n).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
            case .float32, .float64: return []  // handled above
            }
        }
    }

    // MARK: encoding

    /// The file's bytes, as `numpy.save` would write them (format 1.0).
    public func encoded() -> Data {
        let header = NpyArray.header(dtype: dtype, shape: shape)
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let hlen = UInt16(header.utf8.count)
        out.append(contentsOf: [UInt8(hlen & 0xff), UInt8(hlen >> 8)])
        out.append(contentsOf: Array(header.utf8))
        out.append(contentsOf: bytes)
        return out
    }

    /// The padded header dictionary text (with its newline) of an array of this dtype and shape.
    static func header(dtype: DType, shape: [Int]) -> String {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        let pad = (64 - unpadded % 64) % 64
        header += String(repeating: " ", count: pad) + "\n"
        return header
    }

    /// The bytes `write` produces for an array of this dtype and shape, without building it.
    public static func fileSize(dtype: DType, shape: [Int]) -> Int {
        10 + header(dtype: dtype, shape: shape).utf8.count + shape.reduce(1, *) * dtype.size
    }

    public func write(to url: URL) throws {
        do { try encoded().write(to: url, options: .atomic) } catch {
            throw SeafoldError.io(path: url.path, reason: "cannot write .npy: \(error.localizedDescription)")
        }
    }

    // MARK: decoding

    /// Reads an .npy file; errors name the file and the problem.
    public static func read(from url: URL) throws -> NpyArray {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SeafoldError.io(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, source: url.path)
    }

    /// Parses .npy bytes. Rejects bad magic, unknown versions, unsupported dtypes, Fortran
    /// order, and data shorter than the header's shape says — before allocating for it.
    public static func decode(_ data: Data, source: String = "<memory>") throws -> NpyArray {
        func bad(_ why: String) -> SeafoldError { .badInput(path: source, reason: "not a valid .npy file: \(why)") }
        let b = [UInt8](data)
        guard b.count >= 10, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8) else { throw bad("missing the \\x93NUMPY magic") }
        let major = b[6]
        let headerLen: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLen = Int(b[8]) | (Int(b[9]) << 8); headerStart = 10
        case 2, 3:
            guard b.count >= 12 else { throw bad("truncated header length") }
            headerLen = Int(b[8]) | (Int(b[9]) << 8) | (Int(b[10]) << 16) | (Int(b[11]) << 24); headerStart = 12
        default: throw bad("unsupported format version \(major)")
        }
        guard headerLen >= 0, headerStart + headerLen <= b.count else { throw bad("header length \(headerLen) runs past the end of the file") }
        guard let header = String(bytes: b[headerStart..<(headerStart + headerLen)], encoding: .utf8) else { throw bad("header is not text") }
        guard let descr = field(header, "descr") else { throw bad("header has no 'descr'") }
        let descrNorm = descr == "<u1" ? "|u1" : (descr == "<b1" ? "|b1" : descr)
        guard let dtype = DType(rawValue: descrNorm) else {
            throw bad("unsupported dtype '\(descr)' (use float32, float64, int32, int64, uint8 or uint16, little-endian)")
        }
        if let fo = field(header, "fortran_order"), fo.hasPrefix("True") { throw bad("Fortran-order arrays are not supported (save with np.ascontiguousarray)") }
        guard let shapeText = field(header, "shape") else { throw bad("header has no 'shape'") }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for d in dims {
            guard let v = Int(d), v >= 0, v < 1 << 40 else { throw bad("shape entry '\(d)' is not a valid size") }
            shape.append(v)
        }
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, p < 1 << 40 else { throw bad("shape \(shape) is absurdly large") }
            count = p
        }
        let start = headerStart + headerLen
        let need = count * dtype.size
        guard b.count - start >= need else { throw bad("data is truncated: shape \(shape) needs \(need) bytes, file has \(b.count - start)") }
        return NpyArray(shape: shape, dtype: dtype, bytes: Array(b[start..<(start + need)]))
    }

    /// Extracts the raw text of `key`'s value from a Python dict literal header.
    private static func field(_ header: String, _ key: String) -> String? {
        guard let r = header.range(of: "'\(key)'") else { return nil }
        var rest = header[r.upperBound...].drop(while: { $0 == " " || $0 == ":" })
        if rest.first == "'" {
            rest = rest.dropFirst()
            return rest.firstIndex(of: "'").map { String(rest[..<$0]) }
        }
        if rest.first == "(" { return rest.firstIndex(of: ")").map { String(rest[...$0]) } }
        return String(rest.prefix(while: { $0 != "," && $0 != "}" }))
    }
}

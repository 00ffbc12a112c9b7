import Foundation

/// The validated layout of a safetensors file (see `Engine.Safetensors` for the format): every
/// F32 tensor's key, shape and byte range in the data section, and the metadata. Here rather
/// than in Engine because this module keeps bounds and overflow checks in release builds
/// (Engine is -Ounchecked), so untrusted bytes are only parsed where a mistake traps.
public struct SafetensorsLayout {
    public struct Entry { public var key: String; public var shape: [Int]; public var begin: Int; public var end: Int }
    /// Sorted by `begin`; ranges are relative to `body` and do not overlap.
    public var entries: [Entry]
    public var metadata: [String: String]
    /// Index in the data where the data section starts.
    public var body: Int

    /// Refuse headers beyond this size (the reference reader's limit is 100 MB).
    public static let maxHeaderBytes = 100_000_000

    public static func parse(_ data: Data, source: String) throws -> SafetensorsLayout {
        func bad(_ r: String) -> SeafoldError { .badInput(path: source, reason: r) }
        func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
        guard data.count >= 8 else { throw bad("file is \(data.count) bytes, shorter than the 8-byte header length") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(data[data.startIndex + i]) << (8 * UInt64(i)) }
        guard n >= 2, n <= UInt64(maxHeaderBytes), n <= UInt64(data.count - 8) else {
            throw bad("header length \(n) is not plausible for a \(data.count)-byte file (not a safetensors file, or truncated)")
        }
        let hdr = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + Int(n)))
        guard let obj = try? JSONSerialization.jsonObject(with: hdr), let dict = obj as? [String: Any] else {
            throw bad("header is not a JSON object")
        }
        let body = data.startIndex + 8 + Int(n), bodyLen = data.count - 8 - Int(n)
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (key, value) in dict {
            if key == "__metadata__" {
                guard let m = value as? [String: Any] else { throw bad("__metadata__ must be an object of strings") }
                for (mk, mv) in m {
                    guard let s = mv as? String else { throw bad("__metadata__ value for '\(mk)' is not a string") }
                    metadata[mk] = s
                }
                continue
            }
            guard let e = value as? [String: Any] else { throw bad("tensor '\(key)': entry is not an object") }
            guard let dtype = e["dtype"] as? String else { throw bad("tensor '\(key)': missing dtype") }
            guard dtype == "F32" else { throw bad("tensor '\(key)': dtype \(dtype) is not supported (only F32); convert with tensor.float()") }
            guard let shapeAny = e["shape"] as? [Any], let offAny = e["data_offsets"] as? [Any], offAny.count == 2 else {
                throw bad("tensor '\(key)': needs 'shape' and two 'data_offsets'")
            }
            var shape: [Int] = []
            for s in shapeAny {
                guard let d = (s as? NSNumber)?.intValue, d >= 0, d < 1 << 40 else { throw bad("tensor '\(key)': bad shape \(shapeAny)") }
                shape.append(d)
            }
            guard let b = (offAny[0] as? NSNumber)?.intValue, let en = (offAny[1] as? NSNumber)?.intValue,
                  b >= 0, en >= b, en <= bodyLen else {
                throw bad("tensor '\(key)': data_offsets \(offAny) fall outside the \(bodyLen)-byte data section")
            }
            let (cnt, overflow) = shape.reduce((1, false)) { acc, d in
                let r = acc.0.multipliedReportingOverflow(by: d); return (r.partialValue, acc.1 || r.overflow)
            }
            // The byte count can overflow even when the element count does not ([2^31, 2^31]).
            let (bytes, bytesOverflow) = cnt.multipliedReportingOverflow(by: 4)
            guard !overflow, !bytesOverflow else {
                throw bad("tensor '\(key)': shape \(describe(shape)) is absurdly large")
            }
            guard bytes == en - b else {
                throw bad("tensor '\(key)': shape \(describe(shape)) needs \(bytes) bytes but data_offsets give \(en - b)")
            }
            entries.append(Entry(key: key, shape: shape, begin: b, end: en))
        }
        entries.sort { $0.begin != $1.begin ? $0.begin < $1.begin : $0.end < $1.end }
        for i in 1..<max(entries.count, 1) where entries[i].begin < entries[i - 1].end {
            throw bad("tensors '\(entries[i - 1].key)' and '\(entries[i].key)' overlap in the data section")
        }
        return SafetensorsLayout(entries: entries, metadata: metadata, body: body)
    }
}

import Foundation
import SeafoldCore

/// The safetensors format (huggingface/safetensors), F32 tensors only: an 8-byte little-endian
/// header length N, N bytes of JSON `{"key": {"dtype": "F32", "shape": [...], "data_offsets":
/// [begin, end]}, ..., "__metadata__": {string: string}}`, then the raw little-endian data.
///
/// Writing follows the reference writer: tensors laid out in key order, header padded with
/// spaces to a multiple of 8 bytes. Files load with `safetensors.torch.load_file` straight into
/// torchvision's AlexNet. Reading validates everything and names the offending key.
public enum Safetensors {
    /// Refuse headers beyond this size (the reference reader's limit is 100 MB).
    static let maxHeaderBytes = 100_000_000

    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        let data = try encode(tensors, metadata: metadata)
        do { try data.write(to: url, options: .atomic) } catch {
            throw SeafoldError.io(path: url.path, reason: "cannot write safetensors file: \(error.localizedDescription)")
        }
    }

    public static func read(from url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw SeafoldError.io(path: url.path, reason: "cannot read safetensors file: \(error.localizedDescription)")
        }
        return try decode(data, source: url.path)
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) throws -> Data {
        let keys = tensors.keys.sorted()
        if keys.contains("__metadata__") {
            throw SeafoldError.config(key: "__metadata__", reason: "is reserved for metadata and cannot name a tensor")
        }
        let (header, offset) = layout(keys.map { ($0, tensors[$0]!.shape) }, metadata: metadata)
        var out = Data(capacity: 8 + header.count + offset)
        var n = UInt64(header.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for k in keys {
            tensors[k]!.data.withUnsafeBufferPointer { b in
                // Float bit patterns are stored little-endian; this machine is little-endian.
                guard b.count > 0 else { return }
                out.append(UnsafeBufferPointer(start: UnsafeRawPointer(b.baseAddress!).assumingMemoryBound(to: UInt8.self), count: b.count * 4))
            }
        }
        return out
    }

    /// The bytes `write` produces for float32 tensors of these shapes, without building them
    /// (disk estimates: `DiskBudget`).
    public static func fileSize(shapes: [String: [Int]], metadata: [String: String] = [:]) -> Int {
        let (header, data) = layout(shapes.keys.sorted().map { ($0, shapes[$0]!) }, metadata: metadata)
        return 8 + header.count + data
    }

    /// The padded header JSON for tensors in key order, and the size of their data.
    static func layout(_ tensors: [(key: String, shape: [Int])], metadata: [String: String]) -> (header: [UInt8], dataBytes: Int) {
        var parts: [String] = []
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { jsonString($0) + ":" + jsonString(metadata[$0]!) }
            parts.append("\"__metadata__\":{" + m.joined(separator: ",") + "}")
        }
        var offset = 0
        for (k, shape) in tensors {
            let end = offset + shape.reduce(1, *) * 4
            parts.append(jsonString(k) + ":{\"dtype\":\"F32\",\"shape\":[" + shape.map(String.init).joined(separator: ",")
                         + "],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        return (header, offset)
    }

    public static func decode(_ data: Data, source: String = "safetensors data") throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func bad(_ r: String) -> SeafoldError { .badInput(path: source, reason: r) }
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
        var entries: [(key: String, shape: [Int], begin: Int, end: Int)] = []
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
                throw bad("tensor '\(key)': shape \(Tensor.describe(shape)) is absurdly large")
            }
            guard bytes == en - b else {
                throw bad("tensor '\(key)': shape \(Tensor.describe(shape)) needs \(bytes) bytes but data_offsets give \(en - b)")
            }
            entries.append((key, shape, b, en))
        }
        entries.sort { $0.begin != $1.begin ? $0.begin < $1.begin : $0.end < $1.end }
        for i in 1..<max(entries.count, 1) where entries[i].begin < entries[i - 1].end {
            throw bad("tensors '\(entries[i - 1].key)' and '\(entries[i].key)' overlap in the data section")
        }
        var tensors: [String: Tensor] = [:]
        for e in entries {
            let cnt = (e.end - e.begin) / 4
            var floats = [Float](repeating: 0, count: cnt)
            floats.withUnsafeMutableBytes { dst in
                data.copyBytes(to: dst.bindMemory(to: UInt8.self), from: (body + e.begin)..<(body + e.end))
            }
            tensors[e.key] = Tensor(shape: e.shape, data: floats)
        }
        return (tensors, metadata)
    }
}

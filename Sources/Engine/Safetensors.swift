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
        // Parsing and validation live in SeafoldCore, which is built with bounds and overflow
        // checks (this module is -Ounchecked); only the validated ranges are copied here.
        let layout = try SafetensorsLayout.parse(data, source: source)
        var tensors: [String: Tensor] = [:]
        for e in layout.entries {
            let cnt = (e.end - e.begin) / 4
            var floats = [Float](repeating: 0, count: cnt)
            floats.withUnsafeMutableBytes { dst in
                data.copyBytes(to: dst.bindMemory(to: UInt8.self), from: (layout.body + e.begin)..<(layout.body + e.end))
            }
            tensors[e.key] = Tensor(shape: e.shape, data: floats)
        }
        return (tensors, layout.metadata)
    }
}

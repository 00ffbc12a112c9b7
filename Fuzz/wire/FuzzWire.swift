// libFuzzer target: Cluster's wire-protocol decoder. The input is split into frames
// (2-byte little-endian length + bytes, repeated); then WireMessage.parse and every header
// decoder run on it.
import Cluster
import Foundation

func frames(_ d: Data) -> [Data] {
    var out: [Data] = []
    var i = d.startIndex
    while i < d.endIndex && out.count < 16 {
        guard i + 2 <= d.endIndex else { out.append(d[i...]); break }
        let n = Int(d[i]) | Int(d[i + 1]) << 8
        let s = i + 2, e = min(s + n, d.endIndex)
        out.append(Data(d[s..<e]))
        i = e
    }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Data(bytes: $0, count: size) } ?? Data()
    let f = frames(bytes)
    guard let m = try? WireMessage.parse(f) else { return 0 }
    _ = try? m.decode(ReadyHeader.self); _ = try? m.decode(AssignHeader.self); _ = try? m.decode(ProgressHeader.self)
    _ = try? m.decode(CheckpointHeader.self); _ = try? m.decode(DoneHeader.self); _ = try? m.decode(FailHeader.self)
    _ = try? m.decode(FetchHeader.self); _ = try? m.decode(ChunkHeader.self); _ = try? m.decode(PutHeader.self)
    _ = try? m.decode(PutChunkHeader.self); _ = try? m.decode(PutAckHeader.self); _ = try? m.decode(ReasonHeader.self); _ = try? m.decode(CancelHeader.self)
    _ = try? m.decode(Empty.self)
    return 0
}

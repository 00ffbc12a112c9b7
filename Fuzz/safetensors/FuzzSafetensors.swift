// libFuzzer target: Engine's safetensors decoder (Safetensors.decode).
import Engine
import Foundation
import SeafoldCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Data(bytes: $0, count: size) } ?? Data()
    do {
        let (tensors, _) = try Safetensors.decode(bytes, source: "fuzz.safetensors")
        for (k, t) in tensors {
            precondition(t.shape.reduce(1, *) == t.data.count, "tensor \(k) shape \(t.shape) holds \(t.data.count) values")
        }
        _ = try Safetensors.decode(try Safetensors.encode(tensors))
    } catch let e as SeafoldError {
        if case .config = e { return 0 }  // encode refuses a tensor named __metadata__
        precondition(e.description.contains("fuzz.safetensors"), "error does not name the file: \(e)")
    } catch {
        preconditionFailure("not a SeafoldError: \(error)")
    }
    return 0
}

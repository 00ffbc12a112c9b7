// libFuzzer target: SeafoldCore's .npy decoder (NpyArray.decode) and the element conversions
// a reader would call next. Built only by scripts/fuzz.sh (SEAFOLD_FUZZ=1).
import Foundation
import SeafoldCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNpy(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Data(bytes: $0, count: size) } ?? Data()
    do {
        let a = try NpyArray.decode(bytes, source: "fuzz.npy")
        precondition(a.bytes.count == a.count * a.dtype.size, "decoded array's storage disagrees with its shape")
        _ = a.floats(); _ = a.doubles(); _ = try? a.ints(source: "fuzz.npy")
        _ = try NpyArray.decode(a.encoded())   // what we decoded re-encodes and decodes
    } catch let e as SeafoldError {
        precondition(e.description.contains("fuzz.npy"), "error does not name the file: \(e)")
    } catch {
        preconditionFailure("not a SeafoldError: \(error)")
    }
    return 0
}

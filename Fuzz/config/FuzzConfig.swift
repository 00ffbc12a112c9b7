// libFuzzer target: Pipeline's experiment config loader (ConfigLoader.parse on YAML text).
import Foundation
import Pipeline
import SeafoldCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Data(bytes: $0, count: size) } ?? Data()
    guard let text = String(data: bytes, encoding: .utf8) else { return 0 }  // load() reads UTF-8 text
    do {
        _ = try ConfigLoader.parse(text)
    } catch let e as SeafoldError {
        precondition(!e.description.isEmpty)
    } catch {
        preconditionFailure("not a SeafoldError: \(error)")
    }
    return 0
}

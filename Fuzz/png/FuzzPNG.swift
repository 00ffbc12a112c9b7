// libFuzzer target: the Datasets image-loading path (ImageLoader.loadWithInfo → libpng's
// simplified API → conversion to Float), on the input written to a file (the loader takes
// paths, like ImageFolder). The first byte picks .png (even) or .npy (odd).
import Datasets
import Foundation
import SeafoldCore

let dir: URL = {
    let base = ProcessInfo.processInfo.environment["SEAFOLD_FUZZ_TMP"] ?? (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
    let d = URL(fileURLWithPath: base).appendingPathComponent("seafold-fuzz-png-\(getpid())")
    try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d
}()
let pngURL = dir.appendingPathComponent("input.png")
let npyURL = dir.appendingPathComponent("input.npy")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size >= 1 else { return 0 }
    let url = data[0] % 2 == 0 ? pngURL : npyURL
    let bytes = Data(bytes: data + 1, count: size - 1)
    do { try bytes.write(to: url) } catch { preconditionFailure("cannot write \(url.path): \(error)") }
    do {
        let (img, info) = try ImageLoader.loadWithInfo(url)
        try img.validate(source: url.path)
        precondition(img.width == info.width && img.height == info.height && img.channels == info.channels)
        precondition(img.pixels.allSatisfy { $0.isFinite })
    } catch let e as SeafoldError {
        precondition(e.description.contains(url.path), "error does not name the file: \(e)")
    } catch {
        preconditionFailure("not a SeafoldError: \(error)")
    }
    return 0
}

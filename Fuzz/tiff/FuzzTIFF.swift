// libFuzzer target: the Datasets TIFF path (ImageLoader.loadWithInfo → the C shim in
// CImageCodecs → libtiff → conversion to Float), on the input written to a .tif file (the
// loader takes paths, like ImageFolder). Checks: a SeafoldError naming the file or an image
// whose shape matches its info and whose pixels are finite; probe agrees with the decode.
import Datasets
import Foundation
import SeafoldCore

let dir: URL = {
    let base = ProcessInfo.processInfo.environment["SEAFOLD_FUZZ_TMP"] ?? (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
    let d = URL(fileURLWithPath: base).appendingPathComponent("seafold-fuzz-tiff-\(getpid())")
    try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d
}()
let url = dir.appendingPathComponent("input.tif")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTIFF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    do { try Data(bytes: data, count: size).write(to: url) } catch { preconditionFailure("cannot write \(url.path): \(error)") }
    do {
        let (img, info) = try ImageLoader.loadWithInfo(url)
        try img.validate(source: url.path)
        precondition(img.width == info.width && img.height == info.height && img.channels == info.channels)
        precondition(img.pixels.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        let probed = try ImageLoader.probe(url)
        precondition(probed == info, "probe disagrees with the decode: \(probed) vs \(info)")
    } catch let e as SeafoldError {
        precondition(e.description.contains(url.path), "error does not name the file: \(e)")
    } catch {
        preconditionFailure("not a SeafoldError: \(error)")
    }
    return 0
}

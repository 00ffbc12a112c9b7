import Foundation
import XCTest

/// Fresh, uniquely named directories under the system's temporary directory for tests.
/// `mkdtemp(3)` picks the name, so two tests (or two test processes) never share one.
public enum TemporaryDirectory {
    /// Creates `<tmp>/<prefix>-XXXXXXXX` and returns it; the caller decides when it goes.
    public static func make(_ prefix: String) throws -> URL {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-XXXXXXXX")
        var template = Array(base.path.utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: base.path,
                                                           NSLocalizedDescriptionKey: "mkdtemp failed: \(String(cString: strerror(errno)))"])
        }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    /// Runs `body` with a fresh directory and removes the directory afterwards, whether
    /// `body` returns or throws.
    public static func with<T>(_ prefix: String, _ body: (URL) throws -> T) throws -> T {
        let dir = try make(prefix)
        defer { try? FileManager.default.removeItem(at: dir) }
        return try body(dir)
    }
}

extension XCTestCase {
    /// A fresh directory (see `TemporaryDirectory.make`) removed when the test ends, passed,
    /// failed or thrown. Teardown blocks run after the test body and its `defer`s, so child
    /// processes a test stops in a `defer` are gone before their directory is.
    public func makeTemporaryDirectory(_ prefix: String = "seafold-test") throws -> URL {
        let dir = try TemporaryDirectory.make(prefix)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }
}

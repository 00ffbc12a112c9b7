import ArgumentParser
import Foundation

/// Checks shared by every command that reads an existing run directory (status, report,
/// retry, …): a typo in --run-dir must be an error, not a new empty run.
enum RunDirectory {
    /// The directory as a URL; throws a clear error if it does not exist or is not a directory.
    static func requireExisting(_ path: String) throws -> URL {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw ValidationError("run directory '\(url.path)' does not exist")
        }
        guard isDir.boolValue else { throw ValidationError("'\(url.path)' is not a directory (--run-dir names a run directory)") }
        return url
    }
}

import Cluster
import Foundation

/// CURVE keys a coordinator makes for itself when none are given: DIR/coordinator.{key,pub},
/// DIR/WORKER.{key,pub} for the workers and DIR/workers/WORKER.pub as the allow-list, DIR
/// owner-only (0700). Kept when present, so workers holding them can rejoin a restarted
/// coordinator.
enum RunKeys {
    @discardableResult
    static func ensure(_ dir: URL, workerName: String) throws -> URL {
        let fm = FileManager.default
        try fm.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // The secret keys are only as private as the directory: tighten one made earlier.
        guard chmod(dir.path, 0o700) == 0 else { throw ClusterError.io(path: dir.path, reason: "cannot make it owner-only: \(String(cString: strerror(errno)))") }
        for name in ["coordinator", workerName] where !fm.fileExists(atPath: dir.appendingPathComponent("\(name).key").path) {
            try? fm.removeItem(at: dir.appendingPathComponent("\(name).pub"))
            try KeyFiles.generate(directory: dir, name: name)
        }
        let allow = dir.appendingPathComponent("workers")
        try fm.createDirectory(at: allow, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let listed = allow.appendingPathComponent("\(workerName).pub")
        try? fm.removeItem(at: listed)
        try fm.copyItem(at: dir.appendingPathComponent("\(workerName).pub"), to: listed)
        return dir
    }

    /// A fresh owner-only directory under the system temporary directory with new keys, for one
    /// `seafold run` (removed when it ends): nobody else on the machine can join its workers.
    static func ephemeral(workerName: String) throws -> URL {
        var template = Array(FileManager.default.temporaryDirectory.appendingPathComponent("seafold-keys-XXXXXX").path.utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw ClusterError.io(path: FileManager.default.temporaryDirectory.path, reason: "cannot make a key directory: \(String(cString: strerror(errno)))")
        }
        return try ensure(URL(fileURLWithPath: String(cString: made)), workerName: workerName)
    }
}

/// A flag set from a signal handler and read by the main thread.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

import Foundation
import SeafoldCore

/// The one checkpoint policy of every file-backed `TaskIO` (local executor, `seafold task run`,
/// test doubles): a task keeps only its newest checkpoint, at one path, replaced in one rename so
/// a reader (a restarted task) never sees a half-written file.
public struct CheckpointFile: Sendable {
    /// Where the newest checkpoint lives.
    public let url: URL
    public init(_ url: URL) { self.url = url }

    /// Makes `file` the newest checkpoint. Moved by default: the runner writes each checkpoint
    /// afresh, so the old file is not needed and copies would pile up in the scratch directory;
    /// `copy` keeps `file` where it is.
    public func store(_ file: URL, copy: Bool = false) throws {
        if file.standardizedFileURL == url.standardizedFileURL { return }
        let fm = FileManager.default
        try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = url.appendingPathExtension("tmp")
        try? fm.removeItem(at: tmp)
        if copy { try fm.copyItem(at: file, to: tmp) } else { try fm.moveItem(at: file, to: tmp) }
        try atomicReplace(url, with: tmp)
    }

    /// The newest checkpoint, or nil before the first.
    public func latest() -> URL? { FileManager.default.fileExists(atPath: url.path) ? url : nil }
}

import Foundation
import Pipeline
import SeafoldCore

/// A `TaskIO` for benchmarks that run task code outside any run: a temporary scratch
/// directory, the inputs it is given, progress dropped, checkpoints kept in the scratch directory.
final class BenchmarkIO: TaskIO {
    let scratchDirectory: URL
    var inputs: [String: URL] = [:]
    private var checkpoint: URL?

    init() throws {
        scratchDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("seafold-bench-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratchDirectory, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: scratchDirectory) }
    func input(_ name: String) throws -> URL {
        guard let u = inputs[name] else { throw SeafoldError.message("the benchmark gave no input '\(name)'") }
        return u
    }
    func hasInput(_ name: String) -> Bool { inputs[name] != nil }
    func progress(_ fraction: Double, _ message: String) {}
    func saveCheckpoint(_ file: URL) throws { checkpoint = file }
    func latestCheckpoint() throws -> URL? { checkpoint }
}

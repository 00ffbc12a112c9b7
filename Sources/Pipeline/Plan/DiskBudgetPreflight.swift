import Datasets
import Engine
import Foundation
import SeafoldCore

extension DiskBudget {
    /// Set to 1 to start a run even when the pre-flight check says it will not fit.
    public static let ignoreVariable = "SEAFOLD_IGNORE_DISK_CHECK"
    /// Bytes to use as the file system's free space instead of asking it (for tests).
    public static let availableVariable = "SEAFOLD_DISK_AVAILABLE_BYTES"

    /// Free bytes for an unprivileged writer on the file system holding `path` (statvfs).
    public static func availableBytes(at path: URL) throws -> Int64 {
        if let v = ProcessInfo.processInfo.environment[availableVariable], let n = Int64(v) { return n }
        var s = statvfs()
        guard statvfs(path.path, &s) == 0 else {
            throw SeafoldError.io(path: path.path, reason: "cannot read the file system's free space: \(String(cString: strerror(errno)))")
        }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// Fails, before the run writes anything large, when the file system of `runDirectory`
    /// cannot take the `needBytes` the run will hold at its peak, less what the run directory
    /// already holds (a resumed run has written part of it). The error names the path, the
    /// bytes needed and available, and the ways out. `SEAFOLD_IGNORE_DISK_CHECK=1` skips it.
    /// `available` replaces the file system's answer (tests).
    public static func preflight(runDirectory: URL, needBytes: Int64, available: Int64? = nil) throws {
        if ProcessInfo.processInfo.environment[ignoreVariable] == "1" { return }
        let present = bytesUnder(runDirectory)
        let missing = max(0, needBytes - present)
        let free = try available ?? availableBytes(at: runDirectory)
        guard missing > free else { return }
        throw SeafoldError.io(path: runDirectory.path, reason: """
            not enough disk space for this run: it needs \(format(missing)) more at its peak \
            (\(format(needBytes)) in all, \(format(present)) already there) but the file system has \(format(free)) available. \
            Free space there, choose another --run-dir, run fewer workers (--workers; each running fine-tune holds a checkpoint), \
            or set `training: {checkpoint_every: 0}` (no checkpoints; an interrupted fine-tune restarts from scratch). \
            `seafold plan` shows the estimate; \(ignoreVariable)=1 starts anyway.
            """)
    }

    /// Bytes for people: decimal units (1 MB = 10^6 bytes), three significant digits.
    public static func format(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var v = Double(bytes), u = 0
        while v >= 1000, u < units.count - 1 { v /= 1000; u += 1 }
        if u == 0 { return "\(bytes) B" }
        return String(format: v >= 100 ? "%.0f %@" : (v >= 10 ? "%.1f %@" : "%.2f %@"), v, units[u])
    }

    /// The estimate as `seafold plan` prints it.
    public var summary: String {
        var lines: [String] = []
        lines.append("disk: final \(DiskBudget.format(finalBytes)); peak \(DiskBudget.format(peakBytes)) with \(workers) workers "
                     + "(\(concurrentCheckpoints) fine-tune checkpoints of \(DiskBudget.format(checkpointBytes)) + their in-flight copies); "
                     + "coordinator budget \(DiskBudget.format(budgetBytes)); worker cache \(DiskBudget.format(workerCacheBytes)) (\(workerCacheTask))")
        if checkpointsWrittenBytes > 0 {
            lines.append("  checkpoints written in all: \(DiskBudget.format(checkpointsWrittenBytes)) (deleted as they are superseded)")
        }
        for i in items.prefix(6) {
            let each = DiskBudget.format(i.bytes / Int64(max(1, i.count)))
            lines.append(i.count == 1 ? "  \(i.name): \(each)" : "  \(i.count) \(i.name) × \(each) = \(DiskBudget.format(i.bytes))")
        }
        return lines.joined(separator: "\n")
    }
}

extension ExperimentSetup {
    /// The pre-flight disk check of a run about to start with `workers` workers (nil: one per
    /// fine-tune); `workerCachesInRunDirectory` when the workers' caches live in the run
    /// directory (`seafold run`).
    /// Checks the run fits on its disk (see `DiskBudget.preflight`) and returns the estimate.
    @discardableResult
    public func checkDisk(workers: Int?, workerCachesInRunDirectory: Bool) throws -> DiskBudget {
        let b = DiskBudget.estimate(self, workers: workers)
        try DiskBudget.preflight(runDirectory: runDirectory, needBytes: b.needBytes(workerCachesInRunDirectory: workerCachesInRunDirectory))
        return b
    }
}

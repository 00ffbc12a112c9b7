import Foundation
import Logging

/// The process's swift-log setup, installed once (`LoggingOptions.bootstrap` in the CLI): text
/// (swift-log's stream handler) or JSON lines on stderr at the chosen level.
public enum LogBootstrap {
    private static var done = false
    private static let lock = NSLock()
    /// Set once the JSON format is chosen: the CLI's own stderr lines (notices, progress) then go
    /// out as JSON log lines too, so a collector sees one format.
    public private(set) static var json = false

    public static func once(level: Logger.Level, json: Bool) {
        lock.lock(); defer { lock.unlock() }
        guard !done else { return }
        done = true
        Self.json = json
        LoggingSystem.bootstrap { label -> any LogHandler in
            if json { return JSONLogHandler(label: label, logLevel: level) }
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
    }
}

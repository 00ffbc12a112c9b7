import Foundation
import Logging

/// A swift-log handler writing one JSON object a line to stderr: `timestamp` (ISO-8601 UTC with
/// milliseconds), `level`, `label`, `message`, `metadata` (strings; nested values flattened to
/// their description), `source`. The form log collectors (Loki, Elasticsearch, CloudWatch) parse
/// without configuration.
public struct JSONLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider? = nil

    private static let lock = NSLock()

    public init(label: String, logLevel: Logger.Level) { self.label = label; self.logLevel = logLevel }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        var all = metadata
        if let p = metadataProvider { all.merge(p.get(), uniquingKeysWith: { _, b in b }) }
        if let extra { all.merge(extra, uniquingKeysWith: { _, b in b }) }
        let text = Self.line(time: Date(), level: level, label: label, message: message.description,
                             metadata: all.mapValues { "\($0)" }, source: source)
        Self.lock.lock(); defer { Self.lock.unlock() }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// One log line as JSON (sorted keys, so equal records are equal bytes).
    public static func line(time: Date, level: Logger.Level, label: String, message: String, metadata: [String: String], source: String) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        let obj: [String: Any] = ["timestamp": f.string(from: time), "level": level.rawValue, "label": label,
                                  "message": message, "metadata": metadata, "source": source]
        let data = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

import ArgumentParser
import Foundation
import Logging

/// `--log-level`, `--log-format` and `--verbose` of the commands that log (run, coordinator,
/// worker): configures swift-log's `LoggingSystem` once per process, on stderr. The environment
/// variables SEAFOLD_LOG_LEVEL and SEAFOLD_LOG_FORMAT give the same settings where a command line
/// is awkward to change (container images, SLURM scripts); the flags win over them.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical (default: $SEAFOLD_LOG_LEVEL, else info).")
    var logLevel: String?

    @Option(help: "Log format on stderr: text, or json (one object a line: timestamp, level, label, message, metadata) for log collectors (default: $SEAFOLD_LOG_FORMAT, else text).")
    var logFormat: String?

    @Flag(help: "Same as --log-level debug (also logs which BLAS kernel was chosen).")
    var verbose = false

    static let levels = Logger.Level.allCases.map(\.rawValue)

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The effective level and format, or why they are invalid (naming the flag or variable).
    func resolved() throws -> (level: Logger.Level, json: Bool) {
        let (levelText, levelSource) = logLevel.map { ($0, "--log-level") } ?? (environment["SEAFOLD_LOG_LEVEL"].map { ($0, "SEAFOLD_LOG_LEVEL") } ?? ("info", ""))
        var level: Logger.Level
        if verbose && logLevel == nil { level = .debug } else {
            guard let l = Logger.Level(rawValue: levelText.lowercased()) else {
                throw ValidationError("\(levelSource) '\(levelText)' is not a log level; use one of \(Self.levels.joined(separator: ", "))")
            }
            level = l
        }
        if verbose && level > .debug { level = .debug }
        let (formatText, formatSource) = logFormat.map { ($0, "--log-format") } ?? (environment["SEAFOLD_LOG_FORMAT"].map { ($0, "SEAFOLD_LOG_FORMAT") } ?? ("text", ""))
        switch formatText.lowercased() {
        case "text": return (level, false)
        case "json": return (level, true)
        default: throw ValidationError("\(formatSource) '\(formatText)' is not a log format; use text or json")
        }
    }

    func validate() throws { _ = try resolved() }

    /// Arguments that give a child process (a local worker) the same settings.
    var forwarded: [String] {
        guard let (level, json) = try? resolved() else { return [] }
        return ["--log-level", level.rawValue, "--log-format", json ? "json" : "text"]
    }

    /// Installs the handler; call first thing in `run()`, before any `Logger` is made.
    func bootstrap() throws {
        let (level, json) = try resolved()
        LogBootstrap.once(level: level, json: json)
    }
}

enum LogBootstrap {
    private static var done = false
    private static let lock = NSLock()
    /// Set once the JSON format is chosen: the CLI's own stderr lines (notices, progress) then go
    /// out as JSON log lines too, so a collector sees one format.
    private(set) static var json = false

    static func once(level: Logger.Level, json: Bool) {
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

/// A line the CLI writes to stderr, as a JSON log line when the JSON format is on (else as is).
enum StderrLine {
    static func format(_ text: String, level: Logger.Level, label: String) -> String {
        guard LogBootstrap.json else { return text }
        var body = text.hasSuffix("\n") ? String(text.dropLast()) : text
        if body.hasPrefix("\r") { return "" }  // a terminal status line has no place in a JSON log
        if body.hasPrefix("warning: ") { body.removeFirst(9) }
        // Progress lines carry their own timestamp; the JSON line has one already.
        if let r = body.range(of: "Z seafold: "), body.distance(from: body.startIndex, to: r.lowerBound) <= 24 { body = String(body[r.upperBound...]) }
        return JSONLogHandler.line(time: Date(), level: level, label: label, message: body, metadata: [:], source: "seafold") + "\n"
    }
}

/// A swift-log handler writing one JSON object a line to stderr: `timestamp` (ISO-8601 UTC with
/// milliseconds), `level`, `label`, `message`, `metadata` (strings; nested values flattened to
/// their description), `source`. The form log collectors (Loki, Elasticsearch, CloudWatch) parse
/// without configuration.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider? = nil

    private static let lock = NSLock()

    init(label: String, logLevel: Logger.Level) { self.label = label; self.logLevel = logLevel }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
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
    static func line(time: Date, level: Logger.Level, label: String, message: String, metadata: [String: String], source: String) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        let obj: [String: Any] = ["timestamp": f.string(from: time), "level": level.rawValue, "label": label,
                                  "message": message, "metadata": metadata, "source": source]
        let data = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

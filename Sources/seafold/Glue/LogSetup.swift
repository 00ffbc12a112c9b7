import ArgumentParser
import Foundation
import Logging
import Terminal

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

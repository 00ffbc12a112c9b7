import Foundation
import Logging

/// A line the CLI writes to stderr, as a JSON log line when the JSON format is on (else as is).
public enum StderrLine {
    public static func format(_ text: String, level: Logger.Level, label: String) -> String {
        guard LogBootstrap.json else { return text }
        var body = text.hasSuffix("\n") ? String(text.dropLast()) : text
        if body.hasPrefix("\r") { return "" }  // a terminal status line has no place in a JSON log
        if body.hasPrefix("warning: ") { body.removeFirst(9) }
        // Progress lines carry their own timestamp; the JSON line has one already.
        if let r = body.range(of: "Z seafold: "), body.distance(from: body.startIndex, to: r.lowerBound) <= 24 { body = String(body[r.upperBound...]) }
        return JSONLogHandler.line(time: Date(), level: level, label: label, message: body, metadata: [:], source: "seafold") + "\n"
    }
}

import Foundation
import Logging

/// Terminal output of the CLI and the benchmarks: progress lines only on a TTY (one updating
/// line with ETA), quiet otherwise; notes, errors and warnings on stderr (as JSON log lines when
/// the JSON log format is on); results (tables, JSON) on stdout.
public enum Console {
    public static let isTTY = isatty(STDERR_FILENO) == 1

    public static func status(_ line: String) {
        guard isTTY else { return }
        let clipped = line.count > 150 ? String(line.prefix(147)) + "..." : line
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(clipped)".utf8))
    }

    public static func endStatus() { if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) } }

    public static func info(_ line: String) { toStderr(StderrLine.format(line + "\n", level: .info, label: "seafold")) }

    public static func warn(_ line: String) { toStderr(StderrLine.format("warning: " + line + "\n", level: .warning, label: "seafold")) }

    /// Flushes stdout first: when both streams go to one file (`> out.txt 2>&1`), a buffered
    /// table on stdout would otherwise be cut mid-line by an unbuffered stderr line.
    private static func toStderr(_ text: String) {
        fflush(stdout)
        FileHandle.standardError.write(Data(text.utf8))
    }

    public static func printJSON<T: Encodable>(_ value: T) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        print(String(decoding: try enc.encode(value), as: UTF8.self))
    }
}

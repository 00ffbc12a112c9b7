import Foundation
import Logging

/// Terminal output: progress lines only on a TTY (one updating line with ETA), quiet otherwise;
/// errors and warnings always go to stderr.
enum Console {
    static let isTTY = isatty(STDERR_FILENO) == 1

    static func status(_ line: String) {
        guard isTTY else { return }
        let clipped = line.count > 150 ? String(line.prefix(147)) + "..." : line
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(clipped)".utf8))
    }

    static func endStatus() { if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) } }

    static func info(_ line: String) { toStderr(StderrLine.format(line + "\n", level: .info, label: "seafold")) }

    static func warn(_ line: String) { toStderr(StderrLine.format("warning: " + line + "\n", level: .warning, label: "seafold")) }

    /// Flushes stdout first: when both streams go to one file (`> out.txt 2>&1`), a buffered
    /// table on stdout would otherwise be cut mid-line by an unbuffered stderr line.
    private static func toStderr(_ text: String) {
        fflush(stdout)
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        print(String(decoding: try enc.encode(value), as: UTF8.self))
    }
}

import Foundation

/// The benchmarks' terminal output, as the CLI's own: progress lines only on a TTY (one
/// updating line), notes and warnings on stderr, results (tables, JSON) on stdout. The bench
/// commands never install a log format, so their stderr lines are plain text.
enum Console {
    static let isTTY = isatty(STDERR_FILENO) == 1

    static func status(_ line: String) {
        guard isTTY else { return }
        let clipped = line.count > 150 ? String(line.prefix(147)) + "..." : line
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(clipped)".utf8))
    }

    static func endStatus() { if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) } }

    static func info(_ line: String) { toStderr(line + "\n") }

    static func warn(_ line: String) { toStderr("warning: " + line + "\n") }

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

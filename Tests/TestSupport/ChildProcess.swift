import Foundation

/// What a child process run to completion left behind.
public struct ProcessOutput {
    /// The exit status (a killed process's is the signal's).
    public var status: Int32
    public var stdout: String
    /// Empty when the run merged standard error into `stdout`.
    public var stderr: String
    /// The process was still running at the deadline and was killed (SIGKILL).
    public var timedOut: Bool
}

/// Runs programs from tests (`Foundation.Process`): to completion with the output captured,
/// or in the background with the output in a log file. Output goes to files, not pipes, so a
/// chatty child never blocks on a full pipe that the test reads only after it exits.
public enum ChildProcess {
    /// Starts `executable` with `arguments`; the environment is this process's with
    /// `environment` on top. Standard output and error go to `log` (created), or are
    /// discarded. The caller waits for it or stops it.
    public static func start(_ executable: URL, _ arguments: [String], environment: [String: String] = [:],
                             log: URL? = nil) throws -> Process {
        let p = make(executable, arguments, environment)
        if let log {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let h = try FileHandle(forWritingTo: log)
            p.standardOutput = h
            p.standardError = h
        } else {
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
        }
        try p.run()
        return p
    }

    /// Runs `executable` to completion and returns its output. With a `timeout` (seconds) the
    /// process is killed when it passes (`timedOut`); only the process itself, not children it
    /// started (a shell should `exec` its command). `mergingStderr` sends standard error
    /// into `stdout`, interleaved as written; `input` replaces the inherited standard input.
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:],
                           timeout: TimeInterval? = nil, mergingStderr: Bool = false,
                           input: FileHandle? = nil) throws -> ProcessOutput {
        let p = make(executable, arguments, environment)
        if let input { p.standardInput = input }
        return try TemporaryDirectory.with("seafold-process") { dir in
            let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            _ = FileManager.default.createFile(atPath: err.path, contents: nil)
            let outHandle = try FileHandle(forWritingTo: out)
            p.standardOutput = outHandle
            p.standardError = mergingStderr ? outHandle : try FileHandle(forWritingTo: err)
            try p.run()
            var timedOut = false
            if let timeout, !waitUntil(timeout, every: 0.05, { !p.isRunning }) {
                kill(p.processIdentifier, SIGKILL)
                timedOut = true
            }
            p.waitUntilExit()
            return ProcessOutput(status: p.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                                 stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "", timedOut: timedOut)
        }
    }

    private static func make(_ executable: URL, _ arguments: [String], _ environment: [String: String]) -> Process {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        if !environment.isEmpty {
            var e = ProcessInfo.processInfo.environment
            for (k, v) in environment { e[k] = v }
            p.environment = e
        }
        return p
    }
}

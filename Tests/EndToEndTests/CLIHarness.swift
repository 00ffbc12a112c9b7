import Foundation
import XCTest

/// Runs the real `seafold` binary (built by `swift test` next to the test bundle) as a child
/// process, with a deadline, capturing its output.
struct CLI {
    static var binary: URL? = {
        let fm = FileManager.default
        // Another build's binary (e.g. to watch a regression test fail on an older commit).
        if let other = ProcessInfo.processInfo.environment["SEAFOLD_TEST_BINARY"], !other.isEmpty {
            return URL(fileURLWithPath: other)
        }
        var candidates: [URL] = []
        let bundle = Bundle.main.bundleURL
        candidates.append(bundle.appendingPathComponent("seafold"))
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("seafold"))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for c in ["release", "debug"] { candidates.append(root.appendingPathComponent(".build/\(c)/seafold")) }
        return candidates.first { fm.isExecutableFile(atPath: $0.path) }
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func require() throws -> URL {
        guard let b = binary else { throw XCTSkip("the seafold binary was not built next to the tests") }
        return b
    }

    /// Starts the binary; the caller waits or kills.
    static func start(_ args: [String], env: [String: String] = [:], log: URL? = nil) throws -> Process {
        let p = Process()
        p.executableURL = try require()
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        if let log {
            FileManager.default.createFile(atPath: log.path, contents: nil)
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

    /// Runs to completion (killing it after `timeout` seconds) and returns its output.
    @discardableResult
    static func run(_ args: [String], timeout: TimeInterval = 300, env: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = try require()
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seafold-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit(); XCTFail("seafold \(args.joined(separator: " ")) timed out after \(timeout) s") }
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    static func tempDir(_ name: String) -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("seafold-e2e-\(name)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    /// A free TCP port on 127.0.0.1 (bind to 0, read it back, close).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Waits until `condition` holds or `timeout` passes.
    static func wait(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline { if condition() { return true }; usleep(100_000) }
        return condition()
    }
}

import Foundation
import TestSupport
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
        if let built = RepositoryFiles.builtExecutable("seafold") { return built }
        return ["release", "debug"].map { RepositoryFiles.url(".build/\($0)/seafold") }.first { fm.isExecutableFile(atPath: $0.path) }
    }()

    typealias Result = ProcessOutput

    static func require() throws -> URL {
        guard let b = binary else { throw XCTSkip("the seafold binary was not built next to the tests") }
        return b
    }

    /// Starts the binary; the caller waits or kills.
    static func start(_ args: [String], env: [String: String] = [:], log: URL? = nil) throws -> Process {
        try ChildProcess.start(try require(), args, environment: env, log: log)
    }

    /// Runs to completion (killing it after `timeout` seconds) and returns its output.
    @discardableResult
    static func run(_ args: [String], timeout: TimeInterval = 300, env: [String: String] = [:]) throws -> Result {
        let r = try ChildProcess.run(try require(), args, environment: env, timeout: timeout)
        if r.timedOut { XCTFail("seafold \(args.joined(separator: " ")) timed out after \(timeout) s") }
        return r
    }

    /// A fresh directory the caller removes; in a test, `makeTemporaryDirectory` removes it
    /// when the test ends.
    static func tempDir(_ name: String) -> URL {
        try! TemporaryDirectory.make("seafold-e2e-\(name)")
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
}

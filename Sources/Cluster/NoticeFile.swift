import Foundation

/// RUN/coordinator.notice: what the coordinator wants `seafold status` to show even when the
/// ledger cannot take a write — today the full-disk pause. A fixed-size file written once when
/// the coordinator starts and later only overwritten in place, so updating it needs no new
/// disk blocks on a full file system. JSON padded with spaces.
struct NoticeFile {
    static let size = 4096
    struct Body: Codable { var storageProblem: String?; var updatedAt: Double }
    let url: URL

    init(runDirectory: URL) {
        url = runDirectory.appendingPathComponent("coordinator.notice")
    }

    /// Creates (or resets) the file at its full size; call while the disk still has room.
    func reset() throws { try write(nil, create: true) }

    func write(_ storageProblem: String?, create: Bool = false) throws {
        var problem = storageProblem
        var bytes = Data()
        // Shorten the message until the JSON fits the preallocated size.
        repeat {
            bytes = try JSONEncoder().encode(Body(storageProblem: problem, updatedAt: Date().timeIntervalSince1970))
            if bytes.count > NoticeFile.size, let p = problem { problem = String(p.prefix(p.count / 2)) + "…" }
        } while bytes.count > NoticeFile.size
        bytes.append(Data(repeating: 0x20, count: NoticeFile.size - bytes.count))
        let fd = open(url.path, O_WRONLY | (create ? O_CREAT : 0), 0o600)
        guard fd >= 0 else { throw ClusterError.io(path: url.path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        if create { fchmod(fd, 0o600) }   // owner-only like the rest of the run directory, whatever the umask
        let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, NoticeFile.size, 0) }
        guard n == NoticeFile.size else { throw ClusterError.io(path: url.path, reason: n < 0 ? String(cString: strerror(errno)) : "short write") }
    }

    /// The storage problem last written, or nil (also when there is no file).
    func storageProblem() -> String? {
        guard let d = FileManager.default.contents(atPath: url.path) else { return nil }
        return (try? JSONDecoder().decode(Body.self, from: d))?.storageProblem
    }
}

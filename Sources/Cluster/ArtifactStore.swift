import Foundation
import Hashing
import Synchronization

/// A content-addressed file store: each artifact lives at `root/ab/abcdef…` named by the sha256
/// of its bytes. Writes are atomic (temporary file in the store, fsync, rename), so a crash never
/// leaves a partial artifact under a hash name. Used by the coordinator (run directory) and by
/// workers (cache directory).
public final class ArtifactStore: Sendable {
    public let root: URL
    private let tmp: URL
    /// Bytes of all stored artifacts, counted once on first use and kept up to date by
    /// `install` and `remove` (any thread).
    private let knownBytes = Mutex<Int64?>(nil)

    public init(root: URL) throws {
        self.root = root
        self.tmp = root.appendingPathComponent("tmp", isDirectory: true)
        let existed = FileManager.default.fileExists(atPath: root.path)
        do {
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // A root made here as an intermediate directory got the umask's mode: owner-only too.
            if !existed { chmod(root.path, 0o700) }
        } catch { throw ClusterError.io(path: root.path, reason: "cannot create artifact store: \(error.localizedDescription)") }
    }

    /// True for a 64-character lowercase hex sha256.
    public static func isValidHash(_ h: String) -> Bool {
        h.utf8.count == 64 && h.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// Artifact names (keys of manifests) must be plain file names: no separators, no `..`,
    /// no control characters, at most 200 bytes. They never become paths by themselves.
    public static func validateName(_ name: String) throws {
        let bad = name.isEmpty || name.utf8.count > 200 || name == "." || name == ".." || name.hasPrefix(".")
            || name.contains("/") || name.contains("\\") || name.unicodeScalars.contains { $0.value < 32 || $0.value == 127 }
        if bad { throw ClusterError.badArtifact("name '\(name.prefix(64))' must be a plain file name (no '/', no leading '.', no control characters)") }
    }

    /// Where the artifact with this hash lives (whether or not it exists yet).
    public func path(for hash: String) throws -> URL {
        guard ArtifactStore.isValidHash(hash) else { throw ClusterError.badArtifact("'\(hash.prefix(80))' is not a sha256 hex digest") }
        return root.appendingPathComponent(String(hash.prefix(2)), isDirectory: true).appendingPathComponent(hash)
    }

    public func contains(_ hash: String) -> Bool {
        guard let p = try? path(for: hash) else { return false }
        return FileManager.default.fileExists(atPath: p.path)
    }

    public func size(of hash: String) -> Int64? {
        guard let p = try? path(for: hash), let a = try? FileManager.default.attributesOfItem(atPath: p.path) else { return nil }
        return (a[.size] as? NSNumber)?.int64Value
    }

    /// Copies a file into the store (hashing as it goes) and returns its sha256.
    @discardableResult
    public func importFile(_ file: URL) throws -> String {
        guard let input = FileHandle(forReadingAtPath: file.path) else { throw ClusterError.io(path: file.path, reason: "cannot open for reading") }
        defer { try? input.close() }
        let w = try beginWrite()
        do {
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty { try w.append(chunk) }
        } catch let e as ClusterError { w.abandon(); throw e } catch {
            w.abandon(); throw ClusterError.io(path: file.path, reason: "read failed: \(error.localizedDescription)")
        }
        return try w.commit(expected: nil)
    }

    /// Stores bytes and returns their sha256.
    @discardableResult
    public func put(_ data: Data) throws -> String {
        let w = try beginWrite()
        try w.append(data)
        return try w.commit(expected: nil)
    }

    /// Re-hashes a stored artifact; false if missing or corrupt.
    public func verify(_ hash: String) -> Bool {
        guard let p = try? path(for: hash), let h = try? ArtifactStore.sha256(of: p) else { return false }
        return h == hash
    }

    /// Removes an artifact (a corrupt cached copy, a superseded checkpoint).
    public func remove(_ hash: String) {
        guard let p = try? path(for: hash) else { return }
        let size = self.size(of: hash)
        if (try? FileManager.default.removeItem(at: p)) != nil, let size { adjustBytes(-size) }
    }

    /// Bytes of all stored artifacts (temporary files of writes in progress not included).
    public var totalBytes: Int64 {
        knownBytes.withLock { known in
            if let b = known { return b }
            let sum = countBytes()
            known = sum
            return sum
        }
    }

    /// Sums the sizes of the stored artifacts on disk.
    private func countBytes() -> Int64 {
        var sum: Int64 = 0
        let fm = FileManager.default
        for dir in (try? fm.contentsOfDirectory(atPath: root.path)) ?? [] where dir.count == 2 {
            let d = root.appendingPathComponent(dir)
            for f in (try? fm.contentsOfDirectory(atPath: d.path)) ?? [] where ArtifactStore.isValidHash(f) {
                let a = try? fm.attributesOfItem(atPath: d.appendingPathComponent(f).path)
                sum += (a?[.size] as? NSNumber)?.int64Value ?? 0
            }
        }
        return sum
    }

    private func adjustBytes(_ delta: Int64) {
        knownBytes.withLock { if $0 != nil { $0! += delta } }
    }

    /// Starts an atomic write into the store. With `background`, hashing and writing run on a
    /// thread of their own (`ArtifactWriter`): `append` returns once the bytes are queued, and a
    /// write error surfaces at a later `append` or at `commit`.
    public func beginWrite(background: Bool = false) throws -> PendingArtifact {
        try PendingArtifact(store: self, directory: tmp, background: background, onWritten: nil)
    }

    /// A background write whose `onWritten` is called (on the writer's thread) with the bytes
    /// written so far after each appended piece reaches the file.
    func beginWrite(onWritten: @escaping @Sendable (Int64) -> Void) throws -> PendingArtifact {
        try PendingArtifact(store: self, directory: tmp, background: true, onWritten: onWritten)
    }

    public static func sha256(of file: URL) throws -> String {
        guard let h = FileHandle(forReadingAtPath: file.path) else { throw ClusterError.io(path: file.path, reason: "cannot open for reading") }
        defer { try? h.close() }
        let hasher = SHA256()
        while let chunk = try h.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hex(hasher.finalize())
    }

    public static func sha256(_ data: Data) -> String { hex(SHA256.hash(data: data)) }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 { SHA256.hex(digest) }

    fileprivate func install(temp: URL, hash: String) throws {
        let dest = try path(for: hash)
        let fm = FileManager.default
        try? fm.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let size = (try? fm.attributesOfItem(atPath: temp.path)[.size] as? NSNumber)?.int64Value ?? 0
        if rename(temp.path, dest.path) != 0 {
            throw ClusterError.io(path: dest.path, reason: "rename failed: \(String(cString: strerror(errno)))")
        }
        adjustBytes(size)
    }
}

/// An artifact being written: bytes are appended to a temporary file and hashed; `commit`
/// fsyncs, checks the hash (when one is expected) and renames into place.
public final class PendingArtifact {
    let store: ArtifactStore
    let url: URL
    private let fd: Int32
    private let hasher = SHA256()
    /// Bytes appended (with a background writer: accepted, maybe not yet written).
    public private(set) var written: Int64 = 0
    private var finished = false
    private let writer: ArtifactWriter?

    fileprivate init(store: ArtifactStore, directory: URL, background: Bool, onWritten: (@Sendable (Int64) -> Void)?) throws {
        self.store = store
        url = directory.appendingPathComponent("part-\(Token.make())")
        fd = open(url.path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        if fd < 0 { throw ClusterError.io(path: url.path, reason: "cannot create: \(String(cString: strerror(errno)))") }
        writer = background ? ArtifactWriter(fd: fd, path: url.path, onWritten: onWritten) : nil
    }

    deinit { if !finished { abandon() } }

    public func append(_ data: Data) throws {
        if let writer {
            try writer.append(data)
            written += Int64(data.count)
            return
        }
        hasher.update(data: data)
        try data.withUnsafeBytes { (p: UnsafeRawBufferPointer) in
            var off = 0
            while off < p.count {
                let n = write(fd, p.baseAddress! + off, p.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ClusterError.io(path: url.path, reason: "write failed: \(String(cString: strerror(errno)))")
                }
                off += n
            }
        }
        written += Int64(data.count)
    }

    /// Finishes the write off the calling thread (waiting for the writer, fsync, rename) and
    /// hands the outcome to `completion` on that other thread. The caller must not touch this
    /// value afterwards. The coordinator uses it so a large upload's fsync never stalls serving.
    func commitInBackground(expected: String?, completion: @escaping @Sendable (Result<String, Error>) -> Void) {
        // Handed over: the caller no longer touches this artifact, so only the new thread does.
        nonisolated(unsafe) let artifact = self
        let t = Thread {
            if PendingArtifact.slowDiskForTesting > 0 { usleep(UInt32(PendingArtifact.slowDiskForTesting * 1e6)) }
            completion(Result { try artifact.commit(expected: expected) })
        }
        t.name = "seafold.artifact-commit"
        t.start()
    }

    /// Finishes the write; throws (and deletes the temporary file) if `expected` does not match.
    /// `durable: false` skips the fsync: for a worker's cache, which re-hashes a file before its
    /// first use in each process, so a copy torn by a crash is fetched again, not trusted.
    @discardableResult
    public func commit(expected: String?, durable: Bool = true) throws -> String {
        finished = true
        let digest: [UInt8]
        if let writer {
            do { digest = try writer.finish() } catch { close(fd); unlink(url.path); throw error }
        } else { digest = hasher.finalize() }
        let hash = ArtifactStore.hex(digest)
        let ok = !durable || fsync(fd) == 0
        let err = errno
        close(fd)
        guard ok else { unlink(url.path); throw ClusterError.io(path: url.path, reason: "fsync failed: \(String(cString: strerror(err)))") }
        if let e = expected, e != hash {
            unlink(url.path)
            throw ClusterError.transfer("hash mismatch: expected \(e), received bytes hash to \(hash)")
        }
        if store.contains(hash) { unlink(url.path); return hash }
        do { try store.install(temp: url, hash: hash) } catch { unlink(url.path); throw error }
        return hash
    }

    /// Seconds every background commit waits first: a disk whose fsync takes that long, for the
    /// tests that check serving and heartbeats do not wait on it.
    nonisolated(unsafe) static var slowDiskForTesting: Double = 0

    public func abandon() {
        writer?.cancel()
        if !finished { finished = true; close(fd) }
        unlink(url.path)
    }
}

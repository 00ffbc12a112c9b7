import Hashing
import Foundation

/// Hashes and writes the bytes of one `PendingArtifact` on a thread of its own, so the thread
/// that receives them (a worker's socket thread during a fetch) goes back to the socket at
/// once: receiving the next chunk, hashing and writing the previous one overlap on two cores.
/// At most `maxQueuedBytes` wait in memory (`append` blocks beyond that). Every `writebackBytes`
/// written it asks the kernel to start writing those pages to disk (sync_file_range WRITE,
/// non-blocking for the data), so the closing fsync finds most of the file already on disk
/// instead of starting the whole write-out then. The first hashing or write error stops the
/// writer; `append` and `finish` throw it. Durability is unchanged: `PendingArtifact.commit`
/// still fsyncs before it renames.
// Safe: `cond` guards the queue state; hasher, written and flushedTo are the writer thread's (and `finish`'s once it idles).
final class ArtifactWriter: @unchecked Sendable {
    static let maxQueuedBytes = 32 << 20
    static let writebackBytes: Int64 = 4 << 20

    private let fd: Int32
    private let path: String
    private let cond = NSCondition()
    private var queue: [Data] = []
    private var queuedBytes = 0
    private var busy = false
    private var closing = false
    private var error: ClusterError?
    private let hasher = SHA256()
    private var written: Int64 = 0
    private var flushedTo: Int64 = 0

    /// Called on the writer's thread after each appended piece is hashed and written, with the
    /// total written so far: the coordinator acknowledges an upload's chunks from here, so a
    /// sender's credits follow the disk and the queue never outgrows the credit window.
    private let onWritten: (@Sendable (Int64) -> Void)?

    init(fd: Int32, path: String, onWritten: (@Sendable (Int64) -> Void)? = nil) {
        self.fd = fd; self.path = path; self.onWritten = onWritten
        let t = Thread { [self] in loop() }
        t.name = "seafold.artifact-writer"
        t.start()
    }

    /// Queues bytes (blocks while too much is queued); throws the writer's first error.
    func append(_ data: Data) throws {
        cond.lock(); defer { cond.unlock() }
        while queuedBytes > 0 && queuedBytes + data.count > ArtifactWriter.maxQueuedBytes && error == nil { cond.wait() }
        if let error { throw error }
        queue.append(data); queuedBytes += data.count
        cond.broadcast()
    }

    /// Waits until everything queued is hashed and written, stops the thread and returns the
    /// digest (or throws the first error).
    func finish() throws -> [UInt8] {
        cond.lock(); defer { cond.unlock() }
        closing = true
        cond.broadcast()
        while (!queue.isEmpty || busy) && error == nil { cond.wait() }
        if let error { throw error }
        return hasher.finalize()
    }

    /// Stops the thread without writing what is still queued; returns once it no longer
    /// touches the file (the caller closes it next).
    func cancel() {
        cond.lock(); defer { cond.unlock() }
        closing = true; queue = []; queuedBytes = 0
        cond.broadcast()
        while busy { cond.wait() }
    }

    private func loop() {
        while true {
            cond.lock()
            while queue.isEmpty && !closing { cond.wait() }
            if queue.isEmpty || error != nil { cond.unlock(); return }
            // Dropped as soon as it is taken, so memory stays within `maxQueuedBytes` + one chunk.
            let data = queue.removeFirst()
            busy = true
            cond.unlock()
            let failure = write(data)
            cond.lock()
            busy = false
            queuedBytes = max(0, queuedBytes - data.count)
            if let failure, error == nil { error = failure }
            let total = written, ok = error == nil
            cond.broadcast()
            cond.unlock()
            if ok { onWritten?(total) }
        }
    }

    private func write(_ data: Data) -> ClusterError? {
        hasher.update(data: data)
        let failure: ClusterError? = data.withUnsafeBytes { (p: UnsafeRawBufferPointer) in
            var off = 0
            while off < p.count {
                let n = Glibc.write(fd, p.baseAddress! + off, p.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    return ClusterError.io(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
                }
                off += n
            }
            return nil
        }
        if failure != nil { return failure }
        written += Int64(data.count)
        if written - flushedTo >= ArtifactWriter.writebackBytes {
            ArtifactWriter.startWriteback(fd, from: flushedTo, count: written - flushedTo)
            flushedTo = written
        }
        return nil
    }

    /// sync_file_range(fd, offset, count, SYNC_FILE_RANGE_WRITE) where the C library has it
    /// (glibc; Swift's Glibc module does not export it). Only a hint: fsync stays the barrier.
    static func startWriteback(_ fd: Int32, from offset: Int64, count: Int64) {
        _ = syncFileRange?(fd, offset, count, 2)  // 2 = SYNC_FILE_RANGE_WRITE
    }

    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    private static let syncFileRange: SyncFileRange? = {
        guard let h = dlopen(nil, RTLD_NOW), let f = dlsym(h, "sync_file_range") else { return nil }
        return unsafeBitCast(f, to: SyncFileRange.self)
    }()
}

import Foundation
import Synchronization

/// Work handed to the coordinator's serving thread by other threads (the artifact writers that
/// hash, write and fsync uploads). `post` may be called from any thread; the serving loop polls
/// `wakeDescriptor` beside its socket, so a posted item runs within one loop turn instead of
/// waiting for the next housekeeping tick.
final class Mailbox: Sendable {
    private let items = Mutex<[@Sendable () -> Void]>([])
    private let readFD: Int32
    private let writeFD: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ClusterError.io(path: "pipe", reason: String(cString: strerror(errno))) }
        readFD = fds[0]; writeFD = fds[1]
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    }

    deinit { close(readFD); close(writeFD) }

    /// Readable when items are waiting.
    var wakeDescriptor: Int32 { readFD }

    func post(_ item: @escaping @Sendable () -> Void) {
        let wasEmpty = items.withLock { list in
            let was = list.isEmpty
            list.append(item)
            return was
        }
        // One byte per empty→non-empty transition is enough to wake the poll.
        if wasEmpty { var b: UInt8 = 1; _ = write(writeFD, &b, 1) }
    }

    /// The waiting items, oldest first (the wake byte is consumed).
    func take() -> [@Sendable () -> Void] {
        var buf = [UInt8](repeating: 0, count: 64)
        while read(readFD, &buf, buf.count) > 0 {}
        return items.withLock { list in
            let out = list
            list = []
            return out
        }
    }
}

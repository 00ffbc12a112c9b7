import CZeroMQ
import Foundation

/// A ZeroMQ context (libzmq 4.3). One per coordinator/worker: the ZAP handler endpoint
/// (inproc://zeromq.zap.01) is per context, so separate coordinators in one process do not clash.
// Safe: the handle never changes, and libzmq contexts are thread-safe.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    public init() throws {
        guard let h = zmq_ctx_new() else { throw ZMQContext.lastError("zmq_ctx_new") }
        handle = h
    }

    /// Terminates the context; blocked calls on its sockets return ETERM.
    public func shutdown() { zmq_ctx_shutdown(handle) }

    deinit { zmq_ctx_term(handle) }

    static func lastError(_ call: String) -> ClusterError {
        .zmq(call: call, reason: String(cString: zmq_strerror(zmq_errno())))
    }
}

/// A thin, single-thread-owned wrapper over one ZeroMQ socket: options, multipart send and
/// receive with timeouts. Frames are `Data`. Close happens in deinit with linger 0 unless set.
// Safe: each socket is used by one thread at a time (created on, or handed to, the thread that owns it).
public final class ZMQSocket: @unchecked Sendable {
    public enum Kind { case router, dealer, rep, req, pair, push, pull
        var raw: Int32 {
            switch self {
            case .router: return ZMQ_ROUTER
            case .dealer: return ZMQ_DEALER
            case .rep: return ZMQ_REP
            case .req: return ZMQ_REQ
            case .pair: return ZMQ_PAIR
            case .push: return ZMQ_PUSH
            case .pull: return ZMQ_PULL
            }
        }
    }

    let handle: UnsafeMutableRawPointer
    private var closed = false
    /// When set, `receive` records the ZAP user id (the allow-listed key's file name) of each
    /// message in `lastUserID`, so a CURVE server knows which key sent it.
    var captureUserID = false
    private(set) var lastUserID: String?
    /// Keeps the context alive as long as a socket exists.
    let context: ZMQContext

    public init(_ context: ZMQContext, _ kind: Kind) throws {
        guard let h = zmq_socket(context.handle, kind.raw) else { throw ZMQContext.lastError("zmq_socket") }
        handle = h
        self.context = context
        try setInt(ZMQ_LINGER, 0)
    }

    deinit { close() }

    public func close() {
        if !closed { zmq_close(handle); closed = true }
    }

    public func bind(_ endpoint: String) throws {
        if zmq_bind(handle, endpoint) != 0 { throw ZMQContext.lastError("zmq_bind(\(endpoint))") }
    }

    public func connect(_ endpoint: String) throws {
        if zmq_connect(handle, endpoint) != 0 { throw ZMQContext.lastError("zmq_connect(\(endpoint))") }
    }

    /// The endpoint actually bound (resolves `tcp://127.0.0.1:*` to a port).
    public func lastEndpoint() throws -> String {
        var buf = [CChar](repeating: 0, count: 512)
        var len = buf.count
        if zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buf, &len) != 0 { throw ZMQContext.lastError("getsockopt(LAST_ENDPOINT)") }
        return String(cString: buf)
    }

    public func setInt(_ option: Int32, _ value: Int32) throws {
        var v = value
        if zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size) != 0 { throw ZMQContext.lastError("setsockopt(\(option))") }
    }

    public func setInt64(_ option: Int32, _ value: Int64) throws {
        var v = value
        if zmq_setsockopt(handle, option, &v, MemoryLayout<Int64>.size) != 0 { throw ZMQContext.lastError("setsockopt(\(option))") }
    }

    public func setBytes(_ option: Int32, _ value: Data) throws {
        let rc = value.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, value.count) }
        if rc != 0 { throw ZMQContext.lastError("setsockopt(\(option))") }
    }

    public func setString(_ option: Int32, _ value: String) throws { try setBytes(option, Data(value.utf8)) }

    /// Sets ZMQ_ROUTING_ID (the identity a ROUTER peer sees).
    public func setRoutingID(_ id: String) throws { try setString(ZMQ_ROUTING_ID, id) }

    /// Sets the send and receive high-water marks (messages).
    public func setHighWaterMarks(_ n: Int32) throws { try setInt(ZMQ_SNDHWM, n); try setInt(ZMQ_RCVHWM, n) }

    /// Sends all frames as one multipart message. With `timeoutMs` 0 it never blocks and
    /// returns false when the message cannot be queued (peer gone or high-water mark).
    @discardableResult
    public func send(_ frames: [Data], timeoutMs: Int32 = -1) throws -> Bool {
        try send(frames, timeoutMs: timeoutMs, more: false)
    }

    /// `more`: the last frame is followed by another part (sent by the caller).
    private func send(_ frames: [Data], timeoutMs: Int32, more: Bool) throws -> Bool {
        for (i, frame) in frames.enumerated() {
            var flags: Int32 = i < frames.count - 1 || more ? ZMQ_SNDMORE : 0
            if timeoutMs == 0 { flags |= ZMQ_DONTWAIT }
            let rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, frame.count, flags) }
            if rc < 0 {
                let e = zmq_errno()
                if e == EAGAIN || e == EHOSTUNREACH { return false }
                throw ZMQContext.lastError("zmq_send")
            }
        }
        return true
    }

    /// Receives one multipart message; nil when nothing arrived within `timeoutMs`
    /// (-1 waits forever, 0 polls). Messages larger than `maxFrames` frames are drained and
    /// returned truncated only up to the limit so the caller can reject them.
    public func receive(timeoutMs: Int32 = -1, maxFrames: Int = 64) throws -> [Data]? {
        if timeoutMs >= 0, !(try poll(timeoutMs: timeoutMs)) { return nil }
        var frames: [Data] = []
        var more = true
        while more {
            var msg = zmq_msg_t()
            zmq_msg_init(&msg)
            defer { zmq_msg_close(&msg) }
            let rc = zmq_msg_recv(&msg, handle, frames.isEmpty && timeoutMs >= 0 ? ZMQ_DONTWAIT : 0)
            if rc < 0 {
                let e = zmq_errno()
                if e == EAGAIN && frames.isEmpty { return nil }
                if e == EINTR { continue }
                throw ZMQContext.lastError("zmq_msg_recv")
            }
            // Read before the message may be moved below: a moved-from message says "no more",
            // which would end this message early and start a new one at its next frame.
            more = zmq_msg_more(&msg) != 0
            if captureUserID {
                // The ROUTER's routing-id frame carries no metadata; the peer's frames do.
                if frames.isEmpty { lastUserID = nil }
                if lastUserID == nil, let v = zmq_msg_gets(&msg, "User-Id") { lastUserID = String(cString: v) }
            }
            if frames.count < maxFrames {
                let size = zmq_msg_size(&msg)
                if size >= ZMQSocket.zeroCopyBytes {
                    // Large frames (transfer chunks) keep libzmq's buffer: the Data owns the
                    // message and closes it when released, instead of copying every byte once more.
                    let owned = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
                    zmq_msg_init(owned)
                    zmq_msg_move(owned, &msg)
                    frames.append(Data(bytesNoCopy: zmq_msg_data(owned)!, count: size, deallocator: .custom { _, _ in
                        zmq_msg_close(owned); owned.deallocate()
                    }))
                } else if let p = zmq_msg_data(&msg), size > 0 {
                    frames.append(Data(bytes: p, count: size))
                } else {
                    frames.append(Data())
                }
            }
        }
        return frames
    }

    /// Frames at least this large are received without a copy (see `receive`).
    static let zeroCopyBytes = 64 << 10

    /// Sends `frames` and then one more frame of `length` bytes read from `fd` at `offset`
    /// straight into libzmq's message buffer (no intermediate Data). Returns nil when the
    /// message cannot be queued (as `send` with timeout 0), else the bytes read (fewer than
    /// `length` at the end of the file). Throws on a read error before anything is sent.
    public func send(_ frames: [Data], fileTail fd: Int32, offset: Int64, length: Int) throws -> Int? {
        var msg = zmq_msg_t()
        guard zmq_msg_init_size(&msg, length) == 0 else { throw ZMQContext.lastError("zmq_msg_init_size") }
        var sent = false
        defer { if !sent { zmq_msg_close(&msg) } }
        var got = 0
        let base = zmq_msg_data(&msg)
        while got < length {
            let n = pread(fd, base! + got, length - got, off_t(offset) + off_t(got))
            if n < 0 { if errno == EINTR { continue }; throw ClusterError.io(path: "fd \(fd)", reason: "read failed: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            got += n
        }
        if got < length {
            // Short read (end of file): send a right-sized copy.
            var short = zmq_msg_t()
            zmq_msg_init_size(&short, got)
            if got > 0 { memcpy(zmq_msg_data(&short), base!, got) }
            zmq_msg_close(&msg)
            zmq_msg_init(&msg)
            zmq_msg_move(&msg, &short)
        }
        guard try send(frames, timeoutMs: 0, more: true) else { return nil }
        let rc = zmq_msg_send(&msg, handle, ZMQ_DONTWAIT)
        if rc < 0 { throw ZMQContext.lastError("zmq_msg_send") }
        sent = true
        return got
    }

    /// True when a message is waiting (waits up to `timeoutMs`).
    public func poll(timeoutMs: Int32) throws -> Bool {
        try ZMQSocket.poll([self], timeoutMs: timeoutMs).first ?? false
    }

    /// Polls several sockets, and optionally plain file descriptors (a wake-up pipe), for
    /// input; returns which are readable, sockets first, then `fds` in order.
    public static func poll(_ sockets: [ZMQSocket], fds: [Int32] = [], timeoutMs: Int32) throws -> [Bool] {
        var items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
            + fds.map { zmq_pollitem_t(socket: nil, fd: $0, events: Int16(ZMQ_POLLIN), revents: 0) }
        while true {
            let rc = zmq_poll(&items, Int32(items.count), Int(timeoutMs))
            if rc < 0 {
                if zmq_errno() == EINTR { continue }
                throw ZMQContext.lastError("zmq_poll")
            }
            return items.map { ($0.revents & Int16(ZMQ_POLLIN)) != 0 }
        }
    }
}

/// CURVE key pairs in Z85 (40 characters each), as produced by zmq_curve_keypair.
public struct CurveKeyPair: Equatable, Sendable {
    public let publicKey: String
    public let secretKey: String

    public init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A fresh random key pair from libzmq.
    public static func generate() throws -> CurveKeyPair {
        var pub = [CChar](repeating: 0, count: 41)
        var sec = [CChar](repeating: 0, count: 41)
        if zmq_curve_keypair(&pub, &sec) != 0 { throw ZMQContext.lastError("zmq_curve_keypair") }
        return CurveKeyPair(publicKey: String(cString: pub), secretKey: String(cString: sec))
    }

    /// Decodes a 40-character Z85 key to its 32 raw bytes (nil if not valid Z85).
    public static func decodeZ85(_ key: String) -> Data? {
        let chars = Array(key.utf8CString)
        guard key.utf8.count == 40 else { return nil }
        var out = [UInt8](repeating: 0, count: 32)
        guard zmq_z85_decode(&out, chars) != nil else { return nil }
        return Data(out)
    }

    /// Encodes 32 raw key bytes as Z85.
    public static func encodeZ85(_ raw: Data) -> String? {
        guard raw.count == 32 else { return nil }
        var dest = [CChar](repeating: 0, count: 41)
        let ok = raw.withUnsafeBytes { p -> Bool in
            zmq_z85_encode(&dest, p.bindMemory(to: UInt8.self).baseAddress, 32) != nil
        }
        return ok ? String(cString: dest) : nil
    }
}

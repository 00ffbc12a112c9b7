import Foundation

/// The seafold wire protocol, version `SEAFOLD/1` (ZeroMQ ROUTER at the coordinator, one DEALER
/// per worker connection; the ZeroMQ guide's Paranoid Pirate pattern plus credit-based file
/// transfer, see docs/REFERENCE_SEMANTICS.md).
///
/// Every message is multipart: `["SEAFOLD/1"] [command] [JSON header] [binary frames…]`
/// (the ROUTER sees the peer's routing id in front). Commands:
///
/// | command | direction | header | binary frames |
/// |---|---|---|---|
/// | READY | W→C | `ReadyHeader`: worker id, code version, threads, memory, slots, cached artifact hashes, leases still running, optional BLAS kernel/ISA | — |
/// | HEARTBEAT | both | `{}` | — |
/// | ASSIGN | C→W | `AssignHeader`: task id, lease token, attempt, kind, label, input manifest name→{sha256,size}, latest checkpoint | spec JSON |
/// | PROGRESS | W→C | lease token, fraction, message ("epoch 3/30 loss 0.41") | — |
/// | CHECKPOINT | W→C | lease token, sha256 of an already uploaded checkpoint | — |
/// | DONE | W→C | lease token, artifact manifest name→sha256 (all uploaded first) | result JSON |
/// | FAIL | W→C | lease token, error text | — |
/// | FETCH | W→C | sha256, offset, length (one credit = one chunk request) | — |
/// | CHUNK | C→W | sha256, offset, total size, error | the bytes |
/// | PUT | W→C | transfer id, sha256, size, whether it is a checkpoint (and of which lease) | — |
/// | PUTCHUNK | W→C | transfer id, offset | the bytes |
/// | PUTACK | C→W | transfer id, offset acknowledged once written (returns one credit), complete, error, declined (checkpoint over the disk budget) | — |
/// | REFUSE | C→W | reason (version mismatch, unknown peer...) | — |
/// | RESET | C→W | the coordinator does not know this peer (it restarted): send READY again | — |
/// | BYE | both | reason | — |
/// | CANCEL | C→W | lease token of a lease that is no longer current (past its deadline, inputs invalidated): the worker marks it cancelled, its runner's next `checkCancelled`/input/checkpoint call throws, and the slot frees when the runner ends (its FAIL is then stale) | — |
///
/// Liveness: both sides send HEARTBEAT every `heartbeatInterval` when otherwise quiet; any
/// message counts as a sign of life; a peer silent for `liveness` intervals is dead. A dead
/// worker's leases expire and its tasks return to the queue; a dead coordinator makes the worker
/// reconnect on a fresh socket with back-off 1 s doubling to 32 s.
///
/// Transfers: the fetcher keeps at most `credit` (8) chunk requests of `chunkSize` (1 MiB)
/// outstanding, so a ROUTER never queues more than ~8 MiB per peer and never hits its
/// high-water mark (where it would silently drop). Uploads mirror this: at most `credit`
/// PUTCHUNKs unacknowledged, and the coordinator acknowledges a chunk only once its writer
/// thread has hashed and written it, so credits follow the disk. Every artifact is verified by
/// sha256 before it is renamed into a store (temporary file, fsync, rename); the coordinator
/// does the hashing, writing and fsync off its serving thread, so heartbeats never wait on them.
///
/// Robustness: a message with another protocol string, an unknown command, a header that is not
/// JSON of the expected shape or larger than `maxHeaderBytes`, or too many frames is dropped with
/// a logged reason. ZMQ_MAXMSGSIZE makes libzmq disconnect a peer that sends a larger frame.
/// A worker whose code version differs from the coordinator's gets REFUSE and stops with that
/// message; the coordinator logs it. DONE/FAIL carrying a lease token that is not the task's
/// current lease are recorded as stale and otherwise ignored.
public enum WireProtocol {
    public static let version = "SEAFOLD/1"
    /// 1 MiB: per-chunk costs (a FETCH and a CHUNK header, JSON, a scheduling turn of the
    /// coordinator) were a fifth of a 256 KiB chunk's transfer time on loopback.
    public static let chunkSize = 1 << 20
    public static let credit = 8
    public static let maxHeaderBytes = 1 << 20
    public static let maxFrames = 8
    /// Largest single frame libzmq accepts (ZMQ_MAXMSGSIZE); a chunk plus slack.
    public static let maxFrameBytes: Int64 = 8 << 20
    /// Largest artifact a PUT may announce (a full AlexNet checkpoint is about 0.7 GB).
    public static let maxArtifactBytes: Int64 = 64 << 30
}

/// The commands of `SEAFOLD/1`.
public enum WireCommand: String, CaseIterable, Sendable {
    case ready = "READY", heartbeat = "HEARTBEAT", assign = "ASSIGN", progress = "PROGRESS"
    case checkpoint = "CHECKPOINT", done = "DONE", fail = "FAIL", fetch = "FETCH", chunk = "CHUNK"
    case put = "PUT", putChunk = "PUTCHUNK", putAck = "PUTACK", refuse = "REFUSE", reset = "RESET", bye = "BYE"
    case cancel = "CANCEL"
}

/// One protocol message without the routing envelope.
public struct WireMessage {
    public var command: WireCommand
    public var header: Data
    public var payload: [Data]

    public init<H: Encodable>(_ command: WireCommand, _ header: H, payload: [Data] = []) {
        self.command = command
        self.header = (try? WireMessage.encoder.encode(header)) ?? Data("{}".utf8)
        self.payload = payload
    }

    public var frames: [Data] {
        [Data(WireProtocol.version.utf8), Data(command.rawValue.utf8), header] + payload
    }

    public func decode<H: Decodable>(_ type: H.Type) throws -> H {
        do { return try WireMessage.decoder.decode(type, from: header) } catch {
            throw ClusterError.malformed("\(command.rawValue) header is not a valid \(type): \(WireMessage.explain(error, header: header))")
        }
    }

    /// A one-line reason naming the offending field (DecodingError's own text is a long dump).
    static func explain(_ error: Error, header: Data = Data()) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.reduce("") { p, k in
                if let i = k.intValue, k.stringValue.hasPrefix("Index") || k.stringValue == "\(i)" { return p + "[\(i)]" }
                return p.isEmpty ? k.stringValue : p + "." + k.stringValue
            }
        }
        guard let e = error as? DecodingError else { return "\(error)" }
        switch e {
        case let .keyNotFound(key, ctx):
            return "missing field '\(path(ctx.codingPath + [key]))'"
        case let .typeMismatch(type, ctx):
            return ctx.codingPath.isEmpty ? "expected a JSON \(type == [String: Any].self ? "object" : "\(type)") at the top level"
                : "field '\(path(ctx.codingPath))' is not a \(type)"
        case let .valueNotFound(type, ctx):
            return "field '\(path(ctx.codingPath))' is null, expected a \(type)"
        case let .dataCorrupted(ctx):
            if !ctx.codingPath.isEmpty { return "field '\(path(ctx.codingPath))': \(ctx.debugDescription)" }
            // corelibs' JSONDecoder says "not valid JSON" also for a number that does not fit
            // its field (1e300, 0.5 or 2^70 for an Int): name such a top-level field.
            if let obj = try? JSONSerialization.jsonObject(with: header), let dict = obj as? [String: Any] {
                for k in dict.keys.sorted() {
                    guard let n = dict[k] as? NSNumber, !(n is Bool) else { continue }
                    let d = n.doubleValue
                    if d != d.rounded() || abs(d) >= 9.2e18 {
                        return "field '\(k)': number \(n) is not an integer in range, or does not fit its type"
                    }
                }
                return "a value does not fit its field's type"
            }
            return "not valid JSON"
        @unknown default:
            return "\(error)"
        }
    }

    /// Parses frames (after the routing id). Throws `.malformed` with the reason to log, or
    /// `.refused` when the protocol string names another SEAFOLD version.
    public static func parse(_ frames: [Data]) throws -> WireMessage {
        guard frames.count >= 3 else { throw ClusterError.malformed("\(frames.count) frames, need at least 3") }
        guard frames.count <= WireProtocol.maxFrames else { throw ClusterError.malformed("\(frames.count) frames, at most \(WireProtocol.maxFrames)") }
        let proto = String(decoding: frames[0].prefix(32), as: UTF8.self)
        guard proto == WireProtocol.version else {
            if proto.hasPrefix("SEAFOLD/") { throw ClusterError.refused("protocol '\(proto)' is not \(WireProtocol.version); run the same seafold version on coordinator and workers") }
            throw ClusterError.malformed("protocol frame is not \(WireProtocol.version)")
        }
        guard frames[1].count <= 16, let command = WireCommand(rawValue: String(decoding: frames[1], as: UTF8.self)) else {
            throw ClusterError.malformed("unknown command")
        }
        guard frames[2].count <= WireProtocol.maxHeaderBytes else {
            throw ClusterError.malformed("\(command.rawValue) header of \(frames[2].count) bytes exceeds \(WireProtocol.maxHeaderBytes)")
        }
        var m = WireMessage(command, Empty())
        m.header = frames[2]
        m.payload = Array(frames.dropFirst(3))
        return m
    }

    static let encoder: JSONEncoder = { let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]; return e }()
    static let decoder = JSONDecoder()
}

/// Headers (JSON) of each command.
public struct Empty: Codable { public init() {} }

public struct ManifestEntry: Codable, Equatable, Sendable {
    public var sha256: String
    public var size: Int64
    public init(sha256: String, size: Int64) { self.sha256 = sha256; self.size = size }
}

public struct ReadyHeader: Codable {
    public var workerID: String
    public var codeVersion: String
    public var threads: Int
    public var memoryBytes: Int64
    public var slots: Int
    public var cached: [String]
    public var running: [String]
    public var host: String
    /// Optional: the BLAS kernel and CPU ISA level this worker computes with.
    public var kernel: String?
    public init(workerID: String, codeVersion: String, threads: Int, memoryBytes: Int64, slots: Int, cached: [String], running: [String], host: String,
                kernel: String? = nil) {
        self.workerID = workerID; self.codeVersion = codeVersion; self.threads = threads; self.memoryBytes = memoryBytes
        self.slots = slots; self.cached = cached; self.running = running; self.host = host; self.kernel = kernel
    }
}

public struct AssignHeader: Codable, Sendable {
    public var taskID: String
    public var leaseToken: String
    public var attempt: Int
    public var kind: String
    public var label: String
    public var inputs: [String: ManifestEntry]
    public var checkpoint: ManifestEntry?
}

public struct ProgressHeader: Codable { public var leaseToken: String; public var fraction: Double; public var message: String }
public struct CheckpointHeader: Codable { public var leaseToken: String; public var sha256: String }
public struct DoneHeader: Codable {
    public var leaseToken: String; public var artifacts: [String: String]
    public init(leaseToken: String, artifacts: [String: String]) { self.leaseToken = leaseToken; self.artifacts = artifacts }
}
public struct FailHeader: Codable { public var leaseToken: String; public var error: String }
public struct FetchHeader: Codable { public var sha256: String; public var offset: Int64; public var length: Int }
public struct ChunkHeader: Codable { public var sha256: String; public var offset: Int64; public var total: Int64; public var error: String? }
public struct PutHeader: Codable {
    public var transferID: String; public var sha256: String; public var size: Int64
    /// A checkpoint, which the coordinator may decline (PUTACK `declined`) to stay within its
    /// disk budget; results are never declined for budget.
    public var checkpoint: Bool?
    /// For a checkpoint: the lease it belongs to (a task replacing its own checkpoint needs no
    /// room held in reserve; see `Coordinator.admitCheckpoint`).
    public var leaseToken: String?
}
public struct PutChunkHeader: Codable { public var transferID: String; public var offset: Int64 }
public struct PutAckHeader: Codable {
    public var transferID: String; public var offset: Int64?; public var complete: Bool; public var error: String?
    /// Set (with `complete`) when a checkpoint upload was declined, not failed: the worker keeps
    /// the checkpoint locally only.
    public var declined: String? = nil
}
public struct ReasonHeader: Codable { public var reason: String }
/// CANCEL: the lease the worker must abandon.
public struct CancelHeader: Codable {
    public var leaseToken: String
    public init(leaseToken: String) { self.leaseToken = leaseToken }
}

/// Random tokens (lease tokens, transfer ids, worker ids): 128 bits as hex.
enum Token {
    static func make() -> String {
        var g = SystemRandomNumberGenerator()
        return String(format: "%016llx%016llx", g.next() as UInt64, g.next() as UInt64)
    }

    /// True for exactly what `make` produces: 32 lowercase hex digits.
    static func isValid(_ token: String) -> Bool {
        token.utf8.count == 32 && token.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}

import Foundation

/// Errors from the cluster layer (sockets, protocol, ledger, artifacts). Each names the thing
/// that went wrong and, where a user can act, what would fix it. (Cluster does not import
/// SeafoldCore, so it has its own error type; the CLI prints `description`.)
public enum ClusterError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A ZeroMQ call failed (`call` names it, `reason` is zmq_strerror).
    case zmq(call: String, reason: String)
    /// A file that could not be read or written.
    case io(path: String, reason: String)
    /// An artifact name, hash or manifest that is not acceptable.
    case badArtifact(String)
    /// The coordinator refused this worker (version mismatch, not allowed...).
    case refused(String)
    /// A configuration value that is not acceptable (bind address, keys, options).
    case config(key: String, reason: String)
    /// An unknown task id or a task in the wrong state for the request.
    case task(id: String, reason: String)
    /// A fetch or upload that did not complete.
    case transfer(String)
    /// A protocol message that could not be parsed (dropped, logged, never fatal).
    case malformed(String)
    /// The coordinator cancelled the lease the runner works on (CANCEL).
    case cancelled(String)

    public var description: String {
        switch self {
        case let .zmq(call, reason): return "ZeroMQ \(call) failed: \(reason)"
        case let .io(path, reason): return "\(path): \(reason)"
        case let .badArtifact(m): return "artifact: \(m)"
        case let .refused(m): return "refused by coordinator: \(m)"
        case let .config(key, reason): return "\(key): \(reason)"
        case let .task(id, reason): return "task \(id): \(reason)"
        case let .transfer(m): return "transfer: \(m)"
        case let .malformed(m): return "malformed message: \(m)"
        case let .cancelled(m): return "cancelled: \(m)"
        }
    }
}

extension ClusterError: LocalizedError {
    public var errorDescription: String? { description }
}

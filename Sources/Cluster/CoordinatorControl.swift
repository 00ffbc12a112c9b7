import Foundation
import Scheduling

/// An exclusive `flock` on RUN/coordinator.lock, held while a coordinator serves the run
/// directory: a second coordinator on the same directory fails at once, and `seafold retry` /
/// `invalidate` can tell whether a live coordinator will pick up their request (the kernel
/// drops the lock when the process dies, so a crash never leaves it stale).
public final class RunLock {
    public let path: String
    private let fd: Int32

    public init(runDirectory: URL) throws {
        try? FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        path = runDirectory.appendingPathComponent("coordinator.lock").path
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ClusterError.io(path: path, reason: "cannot open the coordinator lock: \(String(cString: strerror(errno)))") }
        // A predecessor that is just exiting (a supervisor's restart) gets a second to let go.
        var locked = flock(fd, LOCK_EX | LOCK_NB) == 0
        let end = Date().addingTimeInterval(1)
        while !locked && errno == EWOULDBLOCK && Date() < end {
            usleep(20_000)
            locked = flock(fd, LOCK_EX | LOCK_NB) == 0
        }
        guard locked else {
            close(fd)
            throw ClusterError.config(key: "runDirectory", reason: "another coordinator is serving \(runDirectory.path) (it holds the lock \(path)); stop it first")
        }
    }

    deinit { flock(fd, LOCK_UN); close(fd) }

    /// True if a coordinator (in any process) holds the lock of this run directory now.
    public static func isHeld(runDirectory: URL) -> Bool {
        let p = runDirectory.appendingPathComponent("coordinator.lock").path
        let fd = open(p, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 { flock(fd, LOCK_UN); return false }
        return errno == EWOULDBLOCK
    }
}

/// Failure blame, upload refusals and requests from the CLI.
extension Coordinator {
    /// The FAIL text of a worker that had no free slot for an ASSIGN.
    static let busyText = "worker busy"

    /// Whom a FAIL is held against. A refusal counts only if this coordinator refused that
    /// worker's upload for space (never because the text says so); a worker reporting its own
    /// disk full blames itself, never the task.
    func blame(of error: String, worker: String) -> Scheduler.Blame {
        if refusedForSpace.remove(worker) != nil { return .coordinatorRefusal }
        if error.contains(Coordinator.noSpaceMarker) { return .task }
        let resource = [String(cString: strerror(ENOSPC)), String(cString: strerror(EDQUOT)), String(cString: strerror(ENOMEM))]
        return resource.contains { error.contains($0) } ? .workerResource : .task
    }

    /// After a PUT or PUTCHUNK: if the transfer ended without the artifact while out of space,
    /// this coordinator refused it, and the worker's next FAIL is forgiven.
    func noteRefusal(_ peer: Data, transferID: String, sha256: String) {
        guard storageProblem != nil, uploads[transferID] == nil, !store.contains(sha256), let w = peers[peer]?.workerID else { return }
        refusedForSpace.insert(w)
    }

    /// Applies the requests `seafold retry` and `seafold invalidate` wrote to the ledger and
    /// records each one's outcome there.
    func applyRequests(now: Double) {
        guard let pending = try? ledger.pendingRequests(), !pending.isEmpty else { return }
        for r in pending {
            var outcome: String
            do {
                let id = try resolveTaskID(r.task)
                let event: Scheduler.Event
                switch r.kind {
                case "retry": event = .retry(tasks: [id])
                case "invalidate": event = .invalidate(task: id, withDependents: r.withDependents, reason: "invalidated by request")
                default: throw ClusterError.config(key: "request", reason: "unknown request kind '\(r.kind)'")
                }
                let rejected = apply(sched.handle(event, now: now), now: now)
                outcome = rejected.first.map { "rejected: \($0)" } ?? "applied: \(r.kind) \(id)"
            } catch {
                outcome = "rejected: \((error as? LocalizedError)?.errorDescription ?? "\(error)")"
            }
            do { try ledger.resolveRequest(r.id, outcome: outcome, now: now) } catch { log.error("ledger: \(error)") }
            log.notice("request \(r.id) (\(r.kind) \(r.task)): \(outcome)")
        }
        dirty = true
    }
}

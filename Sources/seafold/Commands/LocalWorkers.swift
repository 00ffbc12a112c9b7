import CProcess
import Foundation
import Terminal

/// The worker processes `seafold run` starts on this machine. They die with it (parent-death
/// signal, and SIGTERM when it stops), and one that dies during the run is started again up to
/// `maxRestarts` times per slot; after that `supervise` names the problem and the run fails
/// (everything already computed stays in the ledger, so rerunning the command resumes).
///
/// Start and supervise from the main thread only: the kernel's parent-death signal fires when
/// the *thread* that spawned a child exits, and the main thread lives as long as the run.
final class LocalWorkers {
    private let count: Int
    private let maxRestarts: Int
    private let makeProcess: (Int) throws -> Process
    private var procs: [Process?]
    private var restarts: [Int]

    init(count: Int, maxRestarts: Int, makeProcess: @escaping (Int) throws -> Process) {
        self.count = count; self.maxRestarts = maxRestarts; self.makeProcess = makeProcess
        procs = Array(repeating: nil, count: count)
        restarts = Array(repeating: 0, count: count)
    }

    func startAll() throws { for i in 0..<count { try start(i) } }

    private func start(_ i: Int) throws {
        let p = try makeProcess(i)
        try p.run()
        procs[i] = p
    }

    /// Restarts dead workers; returns why the run cannot go on, or nil.
    func supervise() -> String? {
        for i in 0..<count {
            guard let p = procs[i], !p.isRunning else { continue }
            // Status 0 is a worker the coordinator dismissed (the run is ending), not a death.
            if p.terminationReason == .exit && p.terminationStatus == 0 { procs[i] = nil; continue }
            let how = p.terminationReason == .uncaughtSignal ? "was killed by signal \(p.terminationStatus)" : "exited with status \(p.terminationStatus)"
            guard restarts[i] < maxRestarts else {
                procs[i] = nil
                return "local worker \(i + 1) \(how) and was already restarted \(maxRestarts) times; giving up (results so far are kept in the ledger: run the same command again to resume)"
            }
            restarts[i] += 1
            Console.warn("local worker \(i + 1) \(how); starting it again (\(restarts[i])/\(maxRestarts))")
            do { try start(i) } catch {
                procs[i] = nil
                return "local worker \(i + 1) \(how) and could not be started again: \(error)"
            }
        }
        return nil
    }

    /// SIGTERM to every live worker, then waits for them.
    func terminateAll() {
        for case let p? in procs where p.isRunning { p.terminate() }
        for case let p? in procs { p.waitUntilExit() }
    }
}

/// Process-lifecycle helpers for child processes.
enum ChildProcess {
    /// Makes this process receive SIGTERM when its parent dies, and exits at once if the parent
    /// `expected` is already gone (it died before the request took effect).
    static func dieWithParent(_ expected: Int32) throws {
        guard seafold_die_with_parent(SIGTERM) == 0 else { return }
        if getppid() != expected {
            FileHandle.standardError.write(Data("seafold worker: parent process \(expected) is gone; exiting\n".utf8))
            exit(1)
        }
    }
}

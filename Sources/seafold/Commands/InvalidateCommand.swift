import ArgumentParser
import Cluster
import Foundation

/// `seafold invalidate --run-dir DIR --task ID [--with-dependents]`: a done task runs again
/// (its outputs are discarded); with dependents, everything downstream runs again too.
struct InvalidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "invalidate", abstract: "Run a done task of a run again.")

    @Option(name: .customLong("run-dir"), help: "The run directory.")
    var runDir: String

    @Option(help: "The id of the task (or a unique prefix).") var task: String
    @Flag(name: .customLong("with-dependents"), help: "Also run again every task downstream of it.") var withDependents = false

    func run() throws {
        let dir = URL(fileURLWithPath: runDir)
        let ledger = try ControlRequests.openLedger(dir)
        let id = try ledger.resolveTaskID(task)
        if let t = try ledger.task(id), t.state != .done {
            throw ValidationError("task \(t.id) (\(t.label)) is \(t.state.rawValue); only done tasks can be invalidated")
        }
        try ControlRequests.send([("invalidate", id, withDependents)], ledger: ledger, runDirectory: dir)
    }
}

/// Requests from the CLI to the coordinator of a run, through the ledger.
enum ControlRequests {
    static func openLedger(_ dir: URL) throws -> Ledger {
        let dir = try RunDirectory.requireExisting(dir.path)
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("ledger.sqlite").path) else {
            if FileManager.default.fileExists(atPath: LocalRunState.url(dir).path) {
                throw ValidationError("\(dir.path) is a `seafold run --local` run (no ledger): run the same `seafold run --local` command again; it keeps every finished task and runs the failed ones again (delete RUN/local/<task id>/ to run a finished task again)")
            }
            throw ValidationError("no ledger.sqlite in \(dir.path): not a distributed run directory")
        }
        return try Ledger(runDirectory: dir)
    }

    /// Writes the requests; if a coordinator serves the run (it holds RUN/coordinator.lock),
    /// waits up to 5 s for it to apply them and prints each outcome.
    static func send(_ requests: [(kind: String, task: String, withDependents: Bool)], ledger: Ledger, runDirectory dir: URL) throws {
        let ids = try requests.map { try ledger.addRequest(kind: $0.kind, task: $0.task, withDependents: $0.withDependents) }
        guard RunLock.isHeld(runDirectory: dir) else {
            print("no coordinator is serving \(dir.path): \(ids.count) request(s) recorded; the next coordinator started on this run directory applies them")
            return
        }
        let end = Date().addingTimeInterval(5)
        var records: [RequestRecord] = []
        repeat {
            records = try ids.compactMap { try ledger.request($0) }
            if records.allSatisfy({ $0.appliedAt != nil }) { break }
            usleep(100_000)
        } while Date() < end
        var rejected = 0
        for r in records {
            if let o = r.outcome { print("\(r.kind) \(r.task.prefix(16)): \(o)"); if o.hasPrefix("rejected") { rejected += 1 } }
            else { print("\(r.kind) \(r.task.prefix(16)): not applied yet by the running coordinator (it applies requests each housekeeping tick)") }
        }
        if rejected > 0 { throw ExitCode(1) }
    }
}

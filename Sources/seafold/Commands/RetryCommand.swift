import ArgumentParser
import Cluster
import Foundation

/// `seafold retry --run-dir DIR [--task ID | --failed]`: puts failed tasks back in the queue.
/// The request goes into the ledger's requests table; a coordinator serving the run applies it
/// within a second, otherwise the next coordinator started on the run directory does.
struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retry", abstract: "Retry failed tasks of a run.")

    @Option(name: .customLong("run-dir"), help: "The run directory.")
    var runDir: String

    @Option(help: "The id of one task to retry (or a unique prefix, as `seafold status` shows).") var task: String?
    @Flag(help: "Retry every failed task.") var failed = false

    func validate() throws {
        if (task == nil) == !failed { throw ValidationError("give exactly one of --task ID or --failed") }
    }

    func run() throws {
        let dir = URL(fileURLWithPath: runDir)
        let ledger = try ControlRequests.openLedger(dir)
        let ids = try task.map { [try ledger.resolveTaskID($0)] } ?? ledger.tasks().filter { $0.state == .failed }.map(\.id)
        if task != nil, let t = try ledger.task(ids[0]), t.state != .failed {
            throw ValidationError("task \(t.id) (\(t.label)) is \(t.state.rawValue); only failed tasks can be retried (a done one can be run again with `seafold invalidate`)")
        }
        if ids.isEmpty { print("no failed tasks"); return }
        try ControlRequests.send(ids.map { ("retry", $0, false) }, ledger: ledger, runDirectory: dir)
    }
}

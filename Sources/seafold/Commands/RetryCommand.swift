import ArgumentParser
import Cluster
import Foundation

/// `seafold retry --run-dir DIR [--task ID | --failed]`: puts failed tasks back in the queue; a
/// running (or restarted) coordinator hands them out again.
struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retry", abstract: "Retry failed tasks of a run.")

    @Option(name: .customLong("run-dir"), help: "The run directory.")
    var runDir: String

    @Option(help: "The id of one task to retry.") var task: String?
    @Flag(help: "Retry every failed task.") var failed = false

    func validate() throws {
        if (task == nil) == !failed { throw ValidationError("give exactly one of --task ID or --failed") }
    }

    func run() throws {
        let ledger = try Ledger(runDirectory: URL(fileURLWithPath: runDir))
        if let task {
            try ledger.retry(taskID: task)
            print("task \(task) queued again")
        } else {
            let ids = try ledger.retryFailed()
            print("\(ids.count) failed tasks queued again")
        }
    }
}

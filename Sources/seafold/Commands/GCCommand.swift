import ArgumentParser
import Cluster
import Foundation
import Pipeline
import Terminal

/// `seafold gc --run-dir D`: deletes from a run directory what no task needs any more
/// (`StoreGarbageCollector`): checkpoints of done tasks, superseded checkpoints, unreferenced
/// artifacts, stale temporary files of the store, and leftovers of `seafold run --local`
/// (scratch directories, checkpoints of finished tasks). With a live coordinator it only
/// reports (dry run), since the coordinator may be writing the store.
struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gc", abstract: "Delete checkpoints and artifacts no task needs from a run directory.")

    @Option(name: .customLong("run-dir"), help: "The run directory.")
    var runDir: String

    @Flag(help: "Only report what would be deleted.")
    var dryRun = false

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    @Option(help: "Temporary and scratch files untouched for this many seconds are stale.")
    var staleAfter: Double = 3600

    /// What `--json` prints.
    struct Outcome: Encodable {
        var runDirectory: String
        var dryRun: Bool
        var coordinatorLive: Bool
        var freedBytes: Int64
        var totals: [StoreGarbageCollector.Total]
        var keptArtifacts: Int
        var keptBytes: Int64
        var deletions: [StoreGarbageCollector.Deletion]
    }

    func run() throws {
        let run = URL(fileURLWithPath: runDir).standardizedFileURL
        let fm = FileManager.default
        let hasLedger = fm.fileExists(atPath: run.appendingPathComponent("ledger.sqlite").path)
        guard hasLedger || fm.fileExists(atPath: run.appendingPathComponent("local").path) else {
            throw ValidationError("\(run.path) is not a run directory (no ledger.sqlite, no local/)")
        }
        let lock = StoreGarbageCollector.lockRun(run)
        defer { if let fd = lock, fd >= 0 { close(fd) } }
        let live = lock == nil
        let now = Date()

        var ledger: Ledger?
        var plan = StoreGarbageCollector.Plan()
        if hasLedger {
            let l = try Ledger(runDirectory: run)
            ledger = l
            let storeRoot = run.appendingPathComponent("artifacts", isDirectory: true)
            if fm.fileExists(atPath: storeRoot.path) {
                plan = try StoreGarbageCollector.plan(ledger: l, store: try ArtifactStore(root: storeRoot), now: now, staleAfter: staleAfter)
            }
        }
        // `seafold run --local` keeps each task under local/<id>/: a finished one (result.json
        // written) needs no checkpoint; a scratch directory outlives only a crashed task.
        let local = run.appendingPathComponent("local", isDirectory: true)
        for id in ((try? fm.contentsOfDirectory(atPath: local.path)) ?? []).sorted() {
            let dir = local.appendingPathComponent(id, isDirectory: true)
            if let d = StoreGarbageCollector.stale(dir.appendingPathComponent("scratch"), kind: .scratch, now: now, staleAfter: staleAfter) {
                plan.deletions.append(d)
            }
            let checkpoints = dir.appendingPathComponent("checkpoints")
            if fm.fileExists(atPath: dir.appendingPathComponent("result.json").path), fm.fileExists(atPath: checkpoints.path) {
                plan.deletions += StoreGarbageCollector.stale(entriesOf: checkpoints, kind: .doneTaskCheckpoint, now: now, staleAfter: 0)
            }
        }

        let deleting = !dryRun && !live
        if deleting {
            plan = StoreGarbageCollector.execute(plan)
            let summary = plan.totals.map { "\($0.count) \($0.kind.rawValue) (\(DiskBudget.format($0.bytes)))" }.joined(separator: ", ")
            try ledger?.recordEvent(kind: "gc", detail: "freed \(plan.freedBytes) bytes: \(summary.isEmpty ? "nothing" : summary)")
        }
        if json {
            try Console.printJSON(Outcome(runDirectory: run.path, dryRun: !deleting, coordinatorLive: live, freedBytes: plan.freedBytes,
                                          totals: plan.totals, keptArtifacts: plan.keptCount, keptBytes: plan.keptBytes, deletions: plan.deletions))
            return
        }
        if live {
            Console.warn("a coordinator is serving \(run.path) (it holds coordinator.lock): nothing deleted, this is what gc would delete once it stops")
        }
        let verb = deleting ? "freed" : "would free"
        print("seafold gc: \(verb) \(DiskBudget.format(plan.freedBytes)) in \(plan.deletions.count) files; kept \(plan.keptCount) artifacts (\(DiskBudget.format(plan.keptBytes)))")
        for t in plan.totals { print("  \(t.count) \(t.kind.rawValue): \(DiskBudget.format(t.bytes))") }
    }
}

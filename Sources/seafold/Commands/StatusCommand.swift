import ArgumentParser
import Cluster
import Foundation
import Terminal

/// `seafold status --run-dir DIR`: a run's summary and its per-task table (kind, dataset,
/// variant, fold, head, state, worker, attempts, epochs, loss, duration), for a distributed run
/// (from its ledger) and a `--local` one (from RUN/local-status.json) alike. The ids it prints are
/// unique prefixes that `seafold retry --task` and `seafold invalidate --task` accept.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a run's progress and its per-task table.")

    @Option(name: .customLong("run-dir"), help: "The run directory.")
    var runDir: String

    @Flag(help: "Print JSON (the summary, failures and every task row).") var json = false

    @Option(help: "Only tasks in these states (comma-separated: pending, running, done, failed, blocked).")
    var state: String?

    @Option(help: "Only tasks of these kinds (comma-separated: pretrain, finetune, baseline, heads, divergence, explain).")
    var kind: String?

    @Option(help: "Only tasks of this dataset.") var dataset: String?
    @Option(help: "Only tasks of this fold (1-based, as the report numbers folds).") var fold: Int?

    @Flag(help: "Print only the summary, not the task table.") var summary = false

    @Flag(help: "Redraw every --interval seconds until the run has settled (Ctrl-C to stop watching).")
    var watch = false

    @Option(help: "Seconds between redraws with --watch.") var interval: Double = 2

    static let states = ["pending", "running", "done", "failed", "blocked"]

    func validate() throws {
        if !(interval > 0) { throw ValidationError("--interval must be more than 0 seconds") }
        for s in list(state) where !Self.states.contains(s) {
            throw ValidationError("--state '\(s)' is not a task state; use \(Self.states.joined(separator: ", "))")
        }
        if let fold, fold < 1 { throw ValidationError("--fold counts from 1") }
    }

    private func list(_ s: String?) -> [String] {
        (s ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
    }

    func run() throws {
        let dir = try RunDirectory.requireExisting(runDir)
        let tty = isatty(STDOUT_FILENO) == 1
        while true {
            let doc = try StatusDocument.read(dir)
            if json { try Console.printJSON(filtered(doc)) } else {
                if watch && tty { print("\u{1B}[H\u{1B}[2J", terminator: "") }
                if watch && !tty { print("--- \(ProgressReporter.timestamp(Date().timeIntervalSince1970))") }
                print(render(filtered(doc)), terminator: "")
            }
            fflush(stdout)
            guard watch, !doc.finished else { return }
            Thread.sleep(forTimeInterval: interval)
        }
    }

    func filtered(_ doc: StatusDocument) -> StatusDocument {
        var d = doc
        let states = Set(list(state)), kinds = Set(list(kind))
        d.tasks = doc.tasks.filter { r in
            (states.isEmpty || states.contains(r.state)) && (kinds.isEmpty || kinds.contains(r.kind))
                && (dataset == nil || r.dataset == dataset) && (fold == nil || r.fold == fold)
        }
        return d
    }

    func render(_ d: StatusDocument) -> String {
        var out = "\(d.executor) run \(d.runDirectory)\n\(d.summaryLine)\n"
        if let q = d.quarantined, !q.isEmpty { out += "quarantined: " + q.keys.sorted().map { "\($0) (\(q[$0]!))" }.joined(separator: "; ") + "\n" }
        if let p = d.storageProblem { out += "PAUSED: \(p)\n" }
        if !summary {
            out += TaskTableText.render(d.tasks, shortIDs: d.shortIDs, now: d.clock)
        }
        // Full ids too: these are what `seafold retry --task` takes.
        for (id, err) in d.failures.sorted(by: { $0.key < $1.key }) { out += "  failed \(id): \(LogText.escape(LogTextLine.oneLine(err)))\n" }
        return out
    }
}

/// What `seafold status` shows, for either kind of run. The field names of the summary are
/// those of the coordinator's `RunStatus`, so scripts reading `status --json` keep working.
struct StatusDocument: Encodable {
    struct Running: Encodable { var id, label, worker: String; var attempt: Int; var fraction: Double; var message: String; var elapsed: Double }
    var runDirectory: String
    /// "distributed" or "local".
    var executor: String
    var total = 0, done = 0, running = 0, pending = 0, failed = 0, blocked = 0
    var runningTasks: [Running] = []
    var failures: [String: String] = [:]
    var connectedWorkers = 0
    /// Seconds since the run started, up to its end once it has ended.
    var elapsed = 0.0
    var eta: Double?
    var etaText = ""
    var finished = false
    var storageProblem: String?
    var quarantined: [String: String]?
    var tasks: [TaskRow] = []
    /// Table id → its unique prefix.
    var shortIDs: [String: String] = [:]
    /// The time the durations of running tasks are measured to.
    var clock = 0.0

    enum CodingKeys: String, CodingKey {
        case runDirectory, executor, total, done, running, pending, failed, blocked, runningTasks, failures, connectedWorkers,
             elapsed, eta, etaText, finished, storageProblem, quarantined, tasks
    }

    var summaryLine: String {
        var s = "\(done)/\(total) done, \(running) running, \(pending) pending, \(failed) failed"
        if blocked > 0 { s += ", \(blocked) blocked" }
        s += "; elapsed \(EtaEstimator.Estimate.format(elapsed))\(finished ? " (settled)" : "")"
        if !finished { s += "; " + etaText }
        if executor == "distributed" { s += "; \(connectedWorkers) worker\(connectedWorkers == 1 ? "" : "s") connected" }
        return s
    }

    static func read(_ dir: URL, now: Double = Date().timeIntervalSince1970) throws -> StatusDocument {
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("ledger.sqlite").path) {
            let ledger = try Ledger(runDirectory: dir)
            // With no coordinator serving the run, its clock stops at its last recorded activity.
            var clock = now
            if !RunLock.isHeld(runDirectory: dir) {
                let last = (try ledger.events().map(\.time) + ledger.timeline().flatMap { [$0.startedAt, $0.endedAt].compactMap { $0 } }).max()
                if let last { clock = min(now, last) }
            }
            let st = try ledger.status(now: clock)
            var d = StatusDocument(runDirectory: dir.path, executor: "distributed")
            d.fill(rows: try TaskTable.rows(ledger: ledger), workers: st.connectedWorkers, start: clock - st.elapsed, clock: clock)
            d.connectedWorkers = st.connectedWorkers
            d.storageProblem = st.storageProblem
            d.quarantined = st.quarantined
            return d
        }
        if FileManager.default.fileExists(atPath: LocalRunState.url(dir).path) {
            let s = try LocalRunState.load(dir)
            var d = StatusDocument(runDirectory: dir.path, executor: "local")
            let clock = s.clockEnd(now: now)
            d.fill(rows: s.tasks, workers: 1, start: s.startedAt, clock: clock)
            if s.endedAt != nil || clock < now { d.finished = true }
            return d
        }
        throw ValidationError("\(dir.path) has neither ledger.sqlite (a distributed run) nor \(LocalRunState.fileName) (a `seafold run --local` run): is it a run directory? (a local run started before this version keeps no state for status)")
    }

    mutating func fill(rows: [TaskRow], workers: Int, start: Double, clock: Double) {
        tasks = rows
        self.clock = clock
        total = rows.count
        var marks: [String: EtaEstimator.EpochMark] = [:]
        for r in rows {
            switch r.state {
            case "done": done += 1
            case "running": running += 1
            case "failed": failed += 1; failures[r.id] = r.error ?? ""
            case "blocked": blocked += 1
            default: pending += 1
            }
            if r.state == "running" {
                let e = r.seconds(now: clock) ?? 0
                runningTasks.append(Running(id: r.id, label: r.label, worker: r.worker ?? "?", attempt: r.attempts, fraction: r.fraction, message: r.message, elapsed: e))
                if let ep = r.epochs, ep > 0 {
                    let k = Int((r.fraction * Double(ep) + 1e-9).rounded(.down))
                    if k > 0 { marks[r.id] = .init(epochsDone: k, secondsAtMark: e) }
                }
            }
        }
        finished = pending + running == 0
        elapsed = max(0, clock - start)
        let est = EtaEstimator.estimate(rows: rows, marks: marks, workers: max(1, workers), now: clock)
        eta = est.seconds; etaText = est.text
        shortIDs = TaskTable.shortIDs(rows.map(\.id))
    }
}

/// The per-task table as text: fixed columns, "-" for what does not apply.
enum TaskTableText {
    static func render(_ rows: [TaskRow], shortIDs: [String: String], now: Double) -> String {
        let header = ["ID", "KIND", "DATASET", "VARIANT", "FOLD", "HEAD", "STATE", "WORKER", "ATT", "EPOCHS", "LOSS", "TIME", "PROGRESS"]
        var table = [header]
        for r in rows {
            let epochs: String
            if let e = r.epochs {
                let k = r.state == "done" ? e : Int((r.fraction * Double(e) + 1e-9).rounded(.down))
                epochs = "\(k)/\(e)"
            } else { epochs = "-" }
            let progress = r.state == "running" ? String(format: "%3.0f%%", r.fraction * 100) : "-"
            table.append([shortIDs[r.id] ?? r.id, r.kind, r.dataset ?? "-", r.variant ?? "-", r.fold.map(String.init) ?? "-", r.head ?? "-",
                          r.state, LogText.escape(r.worker ?? "-"), String(r.attempts), epochs, r.loss.map { String(format: "%.4f", $0) } ?? "-",
                          r.seconds(now: now).map { $0 < 10 ? String(format: "%.1fs", $0) : EtaEstimator.Estimate.format($0) } ?? "-", progress])
        }
        let widths = header.indices.map { c in table.map { $0[c].count }.max() ?? 0 }
        return table.map { row in
            row.enumerated().map { c, v in c == row.count - 1 ? v : v.padding(toLength: widths[c], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

import Foundation
import Pipeline

/// What `seafold status` reads for a `--local` run, which has no ledger: RUN/local-status.json,
/// the task table as the local executor last left it. Written atomically on every task event
/// (and at most once a second for progress messages), so a reader never sees half a file.
struct LocalRunState: Codable {
    static let fileName = "local-status.json"

    var startedAt: Double
    /// Last write; a run whose process is gone stops its clock here.
    var updatedAt: Double
    /// Set when the run ended (all tasks settled, or stopped by an error).
    var endedAt: Double?
    var pid: Int32
    var tasks: [TaskRow]

    static func url(_ runDirectory: URL) -> URL { runDirectory.appendingPathComponent(fileName) }

    static func load(_ runDirectory: URL) throws -> LocalRunState {
        let url = url(runDirectory)
        do {
            return try JSONDecoder().decode(LocalRunState.self, from: Data(contentsOf: url))
        } catch {
            throw ValidationErrorText("\(url.path) is unreadable (\(error)); it is rewritten by the next `seafold run --local` on this run directory")
        }
    }

    /// When the run's clock stops: its end, or its last write if its process is gone.
    func clockEnd(now: Double) -> Double {
        if let e = endedAt { return e }
        return kill(pid, 0) == 0 ? now : updatedAt
    }
}

/// An error message shown as is.
struct ValidationErrorText: Error, CustomStringConvertible {
    var description: String
    init(_ text: String) { description = text }
}

/// Keeps the task table of a `--local` run: updated from the executor's callbacks, handed to
/// the progress reporter, saved for `seafold status`.
final class LocalRunTracker: @unchecked Sendable {
    private let lock = NSLock()
    private let runDirectory: URL
    private var state: LocalRunState
    private var index: [String: Int] = [:]
    private var lastSave = 0.0
    let reporter: ProgressReporter

    init(runDirectory: URL, graph: TaskGraph, reporter: ProgressReporter, now: Double = Date().timeIntervalSince1970) {
        self.runDirectory = runDirectory; self.reporter = reporter
        let rows = graph.tasks.map(TaskTable.row)
        state = LocalRunState(startedAt: now, updatedAt: now, endedAt: nil, pid: getpid(), tasks: rows)
        for (i, r) in rows.enumerated() { index[r.id] = i }
        save(force: true)
        reporter.startTicking { [weak self] in self.map { (rows: $0.rows(), workers: 1) } }
    }

    func rows() -> [TaskRow] { lock.lock(); defer { lock.unlock() }; return state.tasks }

    func event(_ task: PlannedTask, _ e: LocalTaskEvent) {
        let now = Date().timeIntervalSince1970
        update(task.id) { r in
            switch e {
            case .started:
                r.state = "running"; r.attempts += 1; r.worker = "local"; r.startedAt = now; r.endedAt = nil; r.fraction = 0; r.message = ""
            case let .done(result, kept):
                r.state = "done"; r.endedAt = now; r.fraction = 1
                // A result kept from an earlier run took no time to speak of: no duration, so
                // the ETA does not take it for a measurement.
                if kept { r.startedAt = nil; r.endedAt = nil }
                r.loss = TaskTable.lossIn(result: result) ?? r.loss
            case let .failed(error):
                r.state = "failed"; r.endedAt = now; r.error = error
            }
        }
        save(force: true)
        reporter.observe(rows(), workers: 1, now: now)
    }

    func progress(_ task: PlannedTask, _ fraction: Double, _ message: String) {
        update(task.id) { r in
            r.fraction = fraction; r.message = message
            if let l = TaskTable.lossIn(message: message) { r.loss = l }
        }
        save(force: false)
        reporter.observe(rows(), workers: 1)
    }

    /// Marks what never ran (an input failed) as blocked, saves the end, prints the summary.
    func finish(incomplete: [IncompleteTask]) {
        let now = Date().timeIntervalSince1970
        lock.lock()
        for t in incomplete {
            if let i = index[t.task.id], state.tasks[i].state == "pending" { state.tasks[i].state = "blocked" }
        }
        state.endedAt = now
        lock.unlock()
        save(force: true)
        reporter.finish(rows(), workers: 1, now: now)
    }

    private func update(_ id: String, _ body: (inout TaskRow) -> Void) {
        lock.lock(); defer { lock.unlock() }
        guard let i = index[id] else { return }
        body(&state.tasks[i])
    }

    private func save(force: Bool) {
        lock.lock()
        let now = Date().timeIntervalSince1970
        guard force || now - lastSave >= 1 else { lock.unlock(); return }
        lastSave = now
        state.updatedAt = now
        let data = try? JSONEncoder().encode(state)
        lock.unlock()
        // Progress is best effort: a full disk must not stop the run here.
        if let data { try? data.write(to: LocalRunState.url(runDirectory), options: .atomic) }
    }
}

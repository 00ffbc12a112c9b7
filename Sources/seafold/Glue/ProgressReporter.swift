import Foundation
import Logging
import Terminal

/// Progress of a run on stderr (stdout is for results: `--json` must stay valid). On a
/// terminal: one status line, rewritten in place, with failures printed above it. Anywhere else
/// (SLURM, docker and CI logs, `2> file`): timestamped lines (ISO-8601 UTC), one per task event
/// (started, done, failed, requeued) and a summary line every `interval` seconds, so a log shows
/// live progress without carriage returns.
///
/// Fed with snapshots of the task table (`observe`), from whichever thread; it diffs each
/// snapshot against the last one to find the events. A ticker thread (`startTicking`) takes a
/// snapshot every second so the summary and the terminal line keep moving during long tasks.
final class ProgressReporter: @unchecked Sendable {
    let interval: Double
    let terminal: Bool
    private let write: (String) -> Void
    private let lock = NSLock()
    private var previous: [String: TaskRow] = [:]
    private var marks: [String: EtaEstimator.EpochMark] = [:]
    private var lastSummary: Double
    private var startedAt: Double
    private var lastRows: [TaskRow] = []
    private var lastWorkers = 1
    private var statusShown = false
    private var ticker: Thread?
    private var stopTicking = false
    private var finished = false

    /// `terminal`: draw the status line (default: stderr is a terminal).
    init(interval: Double, terminal: Bool = Console.isTTY, now: Double = Date().timeIntervalSince1970,
         write: @escaping (String) -> Void = ProgressReporter.toStderr) {
        self.interval = interval; self.terminal = terminal; self.write = write
        self.lastSummary = now; self.startedAt = now
    }

    static func toStderr(_ text: String) {
        let out = StderrLine.format(text, level: text.contains(" failed ") ? .warning : .info, label: "seafold.progress")
        guard !out.isEmpty else { return }
        fflush(stdout)
        FileHandle.standardError.write(Data(out.utf8))
    }

    static func timestamp(_ t: Double) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: t))
    }

    /// Starts a thread that calls `snapshot` every second and observes what it returns.
    func startTicking(_ snapshot: @escaping () -> (rows: [TaskRow], workers: Int)?) {
        let t = Thread { [weak self] in
            while let self, !self.isStopped() {
                if let s = snapshot() { self.observe(s.rows, workers: s.workers) }
                Thread.sleep(forTimeInterval: 1)
            }
        }
        t.name = "seafold-progress"
        lock.lock(); ticker = t; lock.unlock()
        t.start()
    }

    private func isStopped() -> Bool { lock.lock(); defer { lock.unlock() }; return stopTicking }

    /// Takes a snapshot: prints its events, and the summary when due.
    func observe(_ rows: [TaskRow], workers: Int, now: Double = Date().timeIntervalSince1970) {
        lock.lock(); defer { lock.unlock() }
        guard !finished else { return }
        lastRows = rows; lastWorkers = workers
        var lines: [String] = []
        for r in rows {
            let before = previous[r.id]
            if r.state == "running", let e = r.epochs, e > 0 {
                let k = Int((r.fraction * Double(e) + 1e-9).rounded(.down))
                if k > (marks[r.id]?.epochsDone ?? 0), let s = r.seconds(now: now) { marks[r.id] = .init(epochsDone: k, secondsAtMark: s) }
            } else if r.state != "running" { marks[r.id] = nil }
            // Started and ended between two snapshots (a distributed run is read once a second):
            // its start still gets its line, stamped with the time it started.
            if let before, before.state == "pending", r.state == "done" || r.state == "failed", let t = r.startedAt {
                var started = r; started.state = "running"
                if let line = eventLine(before, started, now: t) { lines.append(line) }
            }
            if let line = eventLine(before, r, now: now) { lines.append(line) }
            previous[r.id] = r
        }
        let due = now - lastSummary >= interval
        if terminal {
            // Only failures leave a line on a terminal; the rest is in the status line.
            let kept = lines.filter { $0.contains(" failed ") }
            if !kept.isEmpty { clearLine(); for l in kept { write(l + "\n") } }
            drawStatus(now: now)
        } else {
            for l in lines { write(l + "\n") }
            if due { write(summaryLine(now: now) + "\n") }
        }
        if due { lastSummary = now }
    }

    /// Stops the ticker and prints the final summary (on a terminal, in place of the status line).
    func finish(_ rows: [TaskRow]? = nil, workers: Int? = nil, now: Double = Date().timeIntervalSince1970) {
        lock.lock(); stopTicking = true; lock.unlock()
        if let rows { observe(rows, workers: workers ?? lastWorkers, now: now) }
        lock.lock(); defer { lock.unlock() }
        guard !finished else { return }
        finished = true
        clearLine()
        write(summaryLine(now: now, final: true) + "\n")
    }

    /// "started finetune multi-site/balanced fold 1 [1a2b3c4d] on local-1 (attempt 1)".
    private func eventLine(_ before: TaskRow?, _ r: TaskRow, now: Double) -> String? {
        let was = before?.state ?? "pending"
        guard was != r.state || (r.state == "running" && before?.attempts != r.attempts && before != nil) else { return nil }
        let what = "\(Self.describe(r)) [\(r.id.prefix(12))]"
        let dur = r.seconds(now: now).map { String(format: "%.1fs", $0) } ?? "?"
        let text: String
        switch r.state {
        case "running": text = "started \(what)" + (r.worker.map { " on \($0)" } ?? "") + " (attempt \(max(1, r.attempts)))"
        case "done":
            // A task already done when the run began (resumed run) is not news.
            if before == nil { return nil }
            if r.startedAt == nil { text = "done \(what) (result kept from an earlier run)"; break }
            text = "done \(what) in \(dur)" + (r.loss.map { String(format: ", loss %.4f", $0) } ?? "")
        case "failed": text = "failed \(what) after \(dur): \(LogTextLine.oneLine(r.error ?? "unknown error"))"
        case "pending" where was == "running": text = "requeued \(what) (its attempt ended without a result)"
        case "blocked": text = "blocked \(what): an input task failed"
        default: return nil
        }
        return "\(Self.timestamp(now)) seafold: \(text)"
    }

    /// "finetune multi-site/balanced fold 1 FT/svm".
    static func describe(_ r: TaskRow) -> String {
        guard let d = r.dataset else { return r.label }
        var s = "\(r.kind) \(d)"
        if let v = r.variant { s += "/\(v)" }
        if let f = r.fold { s += " fold \(f)" }
        if let h = r.head { s += " \(h)" }
        return s
    }

    private func counts() -> (done: Int, running: Int, pending: Int, failed: Int, blocked: Int) {
        var c = (done: 0, running: 0, pending: 0, failed: 0, blocked: 0)
        for r in lastRows {
            switch r.state {
            case "done": c.done += 1
            case "running": c.running += 1
            case "failed": c.failed += 1
            case "blocked": c.blocked += 1
            default: c.pending += 1
            }
        }
        return c
    }

    private func summaryLine(now: Double, final: Bool = false) -> String {
        let c = counts()
        var s = "\(c.done)/\(lastRows.count) done, \(c.running) running, \(c.pending) pending, \(c.failed) failed"
        if c.blocked > 0 { s += ", \(c.blocked) blocked" }
        s += "; elapsed \(EtaEstimator.Estimate.format(now - startedAt))"
        if !final { s += "; " + EtaEstimator.estimate(rows: lastRows, marks: marks, workers: lastWorkers, now: now).text }
        return "\(Self.timestamp(now)) seafold: \(final ? "finished" : "progress") \(s)"
    }

    private func drawStatus(now: Double) {
        let c = counts()
        var line = "[\(c.done)/\(lastRows.count)] \(c.running) running, \(c.failed) failed, "
        line += EtaEstimator.estimate(rows: lastRows, marks: marks, workers: lastWorkers, now: now).text
        if let r = lastRows.first(where: { $0.state == "running" && !$0.message.isEmpty }) { line += " | " + r.message }
        let clipped = line.count > 160 ? String(line.prefix(157)) + "..." : line
        write("\r\u{1B}[2K" + clipped)
        statusShown = true
    }

    private func clearLine() {
        if terminal && statusShown { write("\r\u{1B}[2K"); statusShown = false }
    }
}

/// Keeps an error message on one log line.
enum LogTextLine {
    static func oneLine(_ s: String) -> String {
        let flat = s.replacingOccurrences(of: "\n", with: " ⏎ ")
        return flat.count > 300 ? String(flat.prefix(297)) + "..." : flat
    }
}

import Foundation

/// Time left in a run, from what this run has measured so far, per task kind: seconds per epoch
/// for tasks that train in epochs (done tasks, and the finished epochs of running ones), seconds
/// per task for the others. A kind with nothing measured yet is left out and named, so the
/// estimate says what it rests on ("ETA 3m 10s (from 12 finetune epochs measured)") and is
/// "ETA unknown" until there is any basis. Parallelism: the work left is spread over the
/// workers, but never finishes sooner than its longest single task.
struct EtaEstimator {
    /// Time a running task reached its `epochsDone`-th epoch, as observed (seconds since start).
    struct EpochMark { var epochsDone: Int; var secondsAtMark: Double }

    struct Estimate: Equatable {
        var seconds: Double?
        /// Some remaining tasks are of a kind not measured yet: the time is a lower bound.
        var lowerBound = false
        /// "from 12 finetune epochs, 3 heads tasks measured; explain not yet measured".
        var basis: String

        var text: String {
            guard let s = seconds else { return "ETA unknown (\(basis))" }
            return "ETA \(lowerBound ? "≥ " : "")\(Self.format(s)) (\(basis))"
        }

        static func format(_ seconds: Double) -> String {
            let s = max(0, Int(seconds.rounded()))
            if s >= 3600 { return "\(s / 3600)h \((s % 3600) / 60)m" }
            if s >= 60 { return "\(s / 60)m \(s % 60)s" }
            return "\(s)s"
        }
    }

    /// `marks`: task id → the last epoch boundary seen for a running task.
    static func estimate(rows: [TaskRow], marks: [String: EpochMark], workers: Int, now: Double) -> Estimate {
        // Measured seconds and units (epochs, or tasks) per kind.
        var seconds: [String: Double] = [:], units: [String: Double] = [:]
        func usesEpochs(_ r: TaskRow) -> Bool { (r.epochs ?? 0) > 0 }
        for r in rows {
            if r.state == "done", let d = r.seconds(now: now) {
                seconds[r.kind, default: 0] += d
                units[r.kind, default: 0] += usesEpochs(r) ? Double(r.epochs!) : 1
            } else if r.state == "running", usesEpochs(r), let m = marks[r.id], m.epochsDone > 0 {
                seconds[r.kind, default: 0] += m.secondsAtMark
                units[r.kind, default: 0] += Double(m.epochsDone)
            }
        }
        var left = 0.0, longest = 0.0
        var unmeasured = Set<String>()
        for r in rows where r.state == "pending" || r.state == "running" {
            guard let u = units[r.kind], u > 0, let s = seconds[r.kind] else { unmeasured.insert(r.kind); continue }
            let perUnit = s / u
            var t = perUnit * (usesEpochs(r) ? Double(r.epochs!) : 1)
            if r.state == "running", let e = r.seconds(now: now) { t = max(0, t - e) }
            left += t
            longest = max(longest, t)
        }
        let measured = units.keys.sorted().map { k -> String in
            let n = Int(units[k]!.rounded())
            let isEpochs = rows.contains { $0.kind == k && usesEpochs($0) }
            return "\(n) \(k) \(isEpochs ? (n == 1 ? "epoch" : "epochs") : (n == 1 ? "task" : "tasks"))"
        }
        let remainingKinds = Set(rows.filter { $0.state == "pending" || $0.state == "running" }.map(\.kind))
        if remainingKinds.isEmpty { return Estimate(seconds: 0, basis: "nothing left") }
        // Nothing of what is left has a measured rate: no estimate at all.
        if unmeasured == remainingKinds {
            return Estimate(seconds: nil, basis: "no \(unmeasured.sorted().joined(separator: ", ")) task measured yet")
        }
        var basis = "from " + measured.joined(separator: ", ") + " measured"
        if !unmeasured.isEmpty { basis += "; \(unmeasured.sorted().joined(separator: ", ")) not measured yet, not counted" }
        let total = max(left / Double(max(1, workers)), longest)
        return Estimate(seconds: total, lowerBound: !unmeasured.isEmpty, basis: basis)
    }
}

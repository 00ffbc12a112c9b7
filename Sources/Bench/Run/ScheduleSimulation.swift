import Foundation
import Scheduling
import SeafoldCore

/// List scheduling of a task graph with known durations on `workers` identical one-task
/// workers, as the coordinator dispatches: whenever a worker is free, the best-ranked ready
/// task (all dependencies finished) starts on it. Two rankings: `.longestFirst` (longest
/// projected duration first, then submission order — classic LPT list scheduling) and
/// `.priority` (the coordinator's own rule: the planner's static priority, then submission
/// order; `CoordinatorScheduling.dispatch`). No transfer or start-up costs are modelled.
/// The decisions are the coordinator's own `Scheduler`'s: the ranking becomes its submission
/// sequence, and worker k is the k-th to join (so the lowest free worker wins, as it does there).
public enum ScheduleSimulation {
    public struct Job: Codable, Equatable, Sendable {
        public var id: String
        public var seconds: Double
        public var dependencies: [String]
        public var priority: Int
        /// Submission order (ties in the ranking go to the earlier job).
        public var sequence: Int
        public init(id: String, seconds: Double, dependencies: [String] = [], priority: Int = 0, sequence: Int = 0) {
            self.id = id; self.seconds = seconds; self.dependencies = dependencies; self.priority = priority; self.sequence = sequence
        }
    }

    public enum Policy: String, Codable, Sendable { case longestFirst = "longest-first", priority }

    public struct Outcome: Codable, Equatable, Sendable {
        /// When the last job ends.
        public var makespan: Double
        /// Sum of all durations (the CPU time with one worker per core).
        public var totalSeconds: Double
        /// The longest dependency chain: no number of workers finishes sooner.
        public var criticalPath: Double
        public var start: [String: Double]
        public var worker: [String: Int]
    }

    public static func simulate(_ jobs: [Job], workers: Int, policy: Policy) throws -> Outcome {
        guard workers >= 1 else { throw SeafoldError.config(key: "workers", reason: "must be at least 1, got \(workers)") }
        _ = try index(jobs)
        func ranked(_ a: Job, _ b: Job) -> Bool {
            switch policy {
            case .longestFirst: return a.seconds != b.seconds ? a.seconds > b.seconds : a.sequence < b.sequence
            case .priority: return a.priority != b.priority ? a.priority > b.priority : a.sequence < b.sequence
            }
        }
        var scheduler = Scheduler(policy: Scheduler.Policy(maxAttempts: 1), makeToken: { "" })
        var token = 0
        scheduler.makeToken = { token += 1; return "\(token)" }
        let order = jobs.sorted(by: ranked)
        _ = scheduler.handle(.submitted(order.enumerated().map {
            Scheduler.Task(id: $0.element.id, sequence: $0.offset, dependencies: $0.element.dependencies)
        }), now: 0)
        for w in 0..<workers { _ = scheduler.handle(.workerJoined(worker: "\(w)", slots: 1, running: []), now: 0) }
        let byID = Dictionary(jobs.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var running: [(end: Double, id: String, worker: Int, lease: String)] = []
        var start: [String: Double] = [:], worker: [String: Int] = [:]
        var now = 0.0, makespan = 0.0
        var left = jobs.count
        while left > 0 || !running.isEmpty {
            // Start every ready job a free worker can take, best-ranked first, lowest worker first.
            for case let .assign(id, w, lease, _) in scheduler.dispatch(now: now) {
                start[id] = now; worker[id] = Int(w)!
                running.append((now + byID[id]!.seconds, id, Int(w)!, lease))
                left -= 1
            }
            guard let next = running.map(\.end).min() else {
                let stuck = order.filter { start[$0.id] == nil }.map(\.id)
                throw SeafoldError.message("the task graph has a dependency cycle among \(stuck.prefix(3).joined(separator: ", "))")
            }
            now = next
            makespan = max(makespan, now)
            for r in running where r.end == now {
                _ = scheduler.handle(.done(lease: r.lease, worker: "\(r.worker)"), now: now)
            }
            running.removeAll { $0.end == now }
        }
        return Outcome(makespan: makespan, totalSeconds: jobs.reduce(0) { $0 + $1.seconds }, criticalPath: try criticalPath(jobs),
                       start: start, worker: worker)
    }

    /// Length of the longest chain of dependent jobs (each job's duration plus its longest
    /// predecessor chain).
    public static func criticalPath(_ jobs: [Job]) throws -> Double {
        let byID = try index(jobs)
        var memo: [String: Double] = [:]
        var visiting: Set<String> = []
        func finish(_ id: String) throws -> Double {
            if let v = memo[id] { return v }
            guard visiting.insert(id).inserted else { throw SeafoldError.message("the task graph has a dependency cycle through \(id)") }
            let j = byID[id]!
            var before = 0.0
            for d in j.dependencies { before = max(before, try finish(d)) }
            visiting.remove(id)
            memo[id] = before + j.seconds
            return before + j.seconds
        }
        return try jobs.reduce(0.0) { max($0, try finish($1.id)) }
    }

    private static func index(_ jobs: [Job]) throws -> [String: Job] {
        var byID: [String: Job] = [:]
        for j in jobs {
            guard byID.updateValue(j, forKey: j.id) == nil else { throw SeafoldError.message("job '\(j.id)' appears twice") }
            guard j.seconds >= 0, j.seconds.isFinite else { throw SeafoldError.message("job '\(j.id)' has duration \(j.seconds)") }
        }
        for j in jobs {
            for d in j.dependencies where byID[d] == nil { throw SeafoldError.message("job '\(j.id)' depends on unknown job '\(d)'") }
        }
        return byID
    }
}

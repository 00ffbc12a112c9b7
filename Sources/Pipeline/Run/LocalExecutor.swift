import Foundation
import Scheduling
import SeafoldCore

/// Runs a whole task graph in this process, in dependency order (highest priority first among
/// ready tasks), keeping each task's outputs under `RUN/local/<task id>/`. Used by
/// `seafold run --local`, `seafold task run` and the pipeline's tests: the same task code a
/// worker runs, with no network. A task whose result exists is not run again.
public final class LocalExecutor {
    public let runDirectory: URL
    public var onProgress: ((PlannedTask, Double, String) -> Void)?
    /// Called when a task starts, finishes (with its result, or found already done) or fails:
    /// what `seafold run --local` reports as progress and keeps for `seafold status`.
    public var onTaskEvent: ((PlannedTask, LocalTaskEvent) -> Void)?

    public init(runDirectory: URL) { self.runDirectory = runDirectory }

    public func taskDirectory(_ id: String) -> URL { runDirectory.appendingPathComponent("local/\(id)") }
    public func datasetDirectory(_ name: String) -> URL { runDirectory.appendingPathComponent("datasets/\(name)") }

    /// Runs every task that can run; returns what finished and what did not (with reasons).
    @discardableResult
    public func run(_ graph: TaskGraph) -> (completed: [CompletedTask], incomplete: [IncompleteTask]) {
        // The coordinator's Scheduler with one one-slot worker and no retries. Ties in priority
        // go by task id (the submission sequence is the rank in id order).
        var scheduler = Scheduler(policy: Scheduler.Policy(maxAttempts: 1), makeToken: { "local" })
        let rank = Dictionary(graph.tasks.map(\.id).sorted().enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        _ = scheduler.handle(.submitted(graph.tasks.map {
            Scheduler.Task(id: $0.id, kind: $0.kind.rawValue, priority: $0.priority, sequence: rank[$0.id]!, dependencies: $0.dependencies)
        }), now: 0)
        _ = scheduler.handle(.workerJoined(worker: "local", slots: 1, running: []), now: 0)
        let byID = Dictionary(graph.tasks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var done: [String: CompletedTask] = [:]
        var failed: [String: String] = [:]
        while case let .assign(id, _, lease, _)? = scheduler.dispatch(now: 0).first, let next = byID[id] {
            onTaskEvent?(next, .started)
            let kept = FileManager.default.fileExists(atPath: taskDirectory(next.id).appendingPathComponent("result.json").path)
            do {
                done[next.id] = try runOne(next)
                onTaskEvent?(next, .done(result: done[next.id]!.result, kept: kept))
                _ = scheduler.handle(.done(lease: lease, worker: "local"), now: 0)
            } catch {
                failed[next.id] = "\(error)"
                onTaskEvent?(next, .failed(error: "\(error)"))
                _ = scheduler.handle(.failed(lease: lease, worker: "local", blame: .task, error: "\(error)"), now: 0)
            }
        }
        let incomplete = graph.tasks.compactMap { t -> IncompleteTask? in
            if done[t.id] != nil { return nil }
            if let why = failed[t.id] { return IncompleteTask(task: t, reason: "failed: \(why)") }
            return IncompleteTask(task: t, reason: "blocked: an input task failed")
        }
        return (graph.tasks.compactMap { done[$0.id] }, incomplete)
    }

    /// Runs one task (or returns its stored result).
    public func runOne(_ task: PlannedTask) throws -> CompletedTask {
        let dir = taskDirectory(task.id)
        let resultURL = dir.appendingPathComponent("result.json")
        let manifestURL = dir.appendingPathComponent("artifacts.json")
        if let r = try? Data(contentsOf: resultURL), let m = try? JSONDecoder().decode([String].self, from: Data(contentsOf: manifestURL)) {
            return CompletedTask(task: task, result: r, artifacts: Dictionary(uniqueKeysWithValues: m.map { ($0, dir.appendingPathComponent($0)) }),
                                 resultSource: resultURL.path)
        }
        let scratch = dir.appendingPathComponent("scratch")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let io = LocalTaskIO(executor: self, task: task, scratch: scratch,
                             checkpoint: CheckpointFile(dir.appendingPathComponent("checkpoints/latest.safetensors")))
        let out = try TaskRunner.run(spec: task.spec, io: io)
        for (name, url) in out.artifacts {
            let dest = dir.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: dest)
            try FileManager.default.moveItem(at: url, to: dest)
        }
        try TaskRunner.encode(out.artifacts.keys.sorted()).write(to: manifestURL, options: .atomic)
        try out.result.write(to: resultURL, options: .atomic)
        try? FileManager.default.removeItem(at: scratch)
        return CompletedTask(task: task, result: out.result,
                             artifacts: Dictionary(uniqueKeysWithValues: out.artifacts.keys.map { ($0, dir.appendingPathComponent($0)) }),
                             resultSource: resultURL.path)
    }

    func resolve(_ input: PlannedInput) -> URL {
        switch input {
        case let .task(id, name): return taskDirectory(id).appendingPathComponent(name)
        case let .dataset(name, file): return datasetDirectory(name).appendingPathComponent(file)
        case let .file(path, _): return URL(fileURLWithPath: path)
        }
    }
}

/// What happened to a task in a `LocalExecutor` run.
public enum LocalTaskEvent: Sendable {
    case started
    /// `kept`: the result was there from an earlier run and the task did not run again.
    case done(result: Data, kept: Bool)
    case failed(error: String)
}

/// `TaskIO` over the local run directory.
final class LocalTaskIO: TaskIO {
    let executor: LocalExecutor
    let task: PlannedTask
    let scratchDirectory: URL
    let checkpoint: CheckpointFile

    init(executor: LocalExecutor, task: PlannedTask, scratch: URL, checkpoint: CheckpointFile) {
        self.executor = executor; self.task = task; self.scratchDirectory = scratch; self.checkpoint = checkpoint
    }

    func input(_ name: String) throws -> URL {
        guard let i = task.inputs[name] else { throw SeafoldError.message("task \(task.label) has no input '\(name)'") }
        let url = executor.resolve(i)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw SeafoldError.io(path: url.path, reason: "input '\(name)' of \(task.label) is missing")
        }
        return url
    }

    func hasInput(_ name: String) -> Bool {
        guard let i = task.inputs[name] else { return false }
        return FileManager.default.fileExists(atPath: executor.resolve(i).path)
    }

    func progress(_ fraction: Double, _ message: String) { executor.onProgress?(task, fraction, message) }

    func saveCheckpoint(_ file: URL) throws { try checkpoint.store(file) }

    func latestCheckpoint() throws -> URL? { checkpoint.latest() }
}

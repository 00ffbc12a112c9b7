import Cluster
import Foundation
import Pipeline
import SeafoldCore

/// The only place where the distributed executor meets the ML pipeline: planned tasks become
/// opaque `TaskDescriptor`s, a worker's `TaskContext` becomes the pipeline's `TaskIO`, and the
/// ledger's records become the report's inputs.
enum ClusterGlue {
    /// Imports dataset packs and user weights into the coordinator's store and maps the graph.
    static func descriptors(for setup: ExperimentSetup, coordinator: Coordinator) throws -> [TaskDescriptor] {
        var datasetHashes: [String: String] = [:]  // "name/file" -> sha256
        for p in setup.datasets {
            for (file, url) in p.files { datasetHashes["\(p.summary.name)/\(file)"] = try coordinator.importArtifact(url) }
        }
        var fileHashes: [String: String] = [:]
        let images = Dictionary(setup.datasets.map { ($0.summary.name, $0.summary.labels.count) }, uniquingKeysWith: { a, _ in a })
        return try setup.graph.tasks.map { t in
            var inputs: [String: ArtifactRef] = [:]
            for (name, input) in t.inputs {
                switch input {
                case let .task(id, file): inputs[name] = .output(task: id, name: file)
                case let .dataset(ds, file):
                    guard let h = datasetHashes["\(ds)/\(file)"] else { throw SeafoldError.message("dataset file \(ds)/\(file) was not prepared") }
                    inputs[name] = .hash(h)
                case let .file(path, _):
                    if fileHashes[path] == nil { fileHashes[path] = try coordinator.importArtifact(URL(fileURLWithPath: path)) }
                    inputs[name] = .hash(fileHashes[path]!)
                }
            }
            return TaskDescriptor(id: t.id, kind: t.kind.rawValue, label: t.label, spec: t.spec.encoded(),
                                  dependencies: t.dependencies, inputs: inputs, priority: t.priority,
                                  expectedSeconds: expectedSeconds(t, images: images))
        }
    }

    /// A deliberately slow guess at one attempt, for the lease deadline (which is at least 3×
    /// this, and never below the coordinator's floor): a fine-tune's epochs over its dataset's
    /// images at 1 image/s (well below what one core trains at 224 px; BENCHMARKS.md). Other
    /// tasks: nil (the floor, then 3× the slowest done one of the kind).
    static func expectedSeconds(_ t: PlannedTask, images: [String: Int]) -> Double? {
        guard t.kind == .finetune, let shard = t.spec.shard, let n = images[shard.dataset], let epochs = t.spec.trainingEpochs else { return nil }
        return Double(epochs * n)
    }

    /// The worker's runner: decode the spec and run it with the pipeline.
    static func runner(threads: Int) -> (TaskAssignment, TaskContext) throws -> TaskOutcome {
        return { assignment, context in
            let spec = try TaskSpec.decode(assignment.spec)
            let out = try TaskRunner.run(spec: spec, io: ContextIO(context))
            return TaskOutcome(result: out.result, artifacts: out.artifacts)
        }
    }

    /// The report's inputs from the ledger of a run directory and its saved plan.
    static func results(plan: RunPlan, runDirectory: URL, ledger: Ledger, store: ArtifactStore) throws -> RunResults {
        let records = Dictionary(try ledger.tasks().map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var completed: [CompletedTask] = [], incomplete: [IncompleteTask] = []
        for t in plan.tasks {
            guard let r = records[t.id] else { incomplete.append(IncompleteTask(task: t, reason: "not submitted")); continue }
            // The report reads these files: a corrupt one must not go into the tables.
            let corrupt = r.state == .done ? r.artifacts.sorted { $0.key < $1.key }.first { !store.verify($0.value) } : nil
            if let (name, hash) = corrupt {
                incomplete.append(IncompleteTask(task: t, reason: "output \(name) (\(hash.prefix(16))…) is corrupt or missing in the store; run `seafold invalidate --run-dir DIR --task \(t.id.prefix(12))` or restart the coordinator to produce it again"))
            } else if r.state == .done, let result = r.result {
                var arts: [String: URL] = [:]
                for (name, hash) in r.artifacts { arts[name] = try store.path(for: hash) }
                completed.append(CompletedTask(task: t, result: result, artifacts: arts,
                                               resultSource: runDirectory.appendingPathComponent("ledger.sqlite").path))
            } else {
                let why: String
                switch r.state {
                case .failed: why = "failed after \(r.attempts) attempts: \(r.lastError ?? "unknown error")"
                case .blocked: why = "blocked: an input task failed"
                case .running: why = "running (\(r.progressMessage))"
                default: why = "pending"
                }
                incomplete.append(IncompleteTask(task: t, reason: why))
            }
        }
        let labels = Dictionary(plan.tasks.map { ($0.id, ($0.kind.rawValue, $0.label)) }, uniquingKeysWith: { a, _ in a })
        let t0 = try ledger.timeline().map(\.startedAt).min() ?? 0
        let timeline = try ledger.timeline().map { a in
            TimelineEntry(taskID: a.taskID, taskKind: labels[a.taskID]?.0 ?? "?", label: labels[a.taskID]?.1 ?? a.taskID,
                          worker: a.workerID, start: a.startedAt - t0, end: a.endedAt.map { $0 - t0 }, outcome: a.outcome.rawValue)
        }
        return plan.results(completed: completed, incomplete: incomplete, timeline: timeline, softwareVersion: SeafoldVersion.string,
                            runDirectory: runDirectory)
    }
}

/// `TaskIO` over a cluster worker's `TaskContext`.
final class ContextIO: TaskIO {
    let context: TaskContext
    init(_ context: TaskContext) { self.context = context }
    func input(_ name: String) throws -> URL { try context.input(name) }
    func hasInput(_ name: String) -> Bool { (try? context.input(name)) != nil }
    func progress(_ fraction: Double, _ message: String) { context.progress(fraction, message) }
    func saveCheckpoint(_ file: URL) throws { try context.saveCheckpoint(file) }
    func latestCheckpoint() throws -> URL? { try context.latestCheckpoint() }
    var scratchDirectory: URL { context.scratchDirectory }
}

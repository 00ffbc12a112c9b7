import Foundation
import SeafoldCore

/// A run's plan as saved in `RUN/plan.json` (format described in docs/RUN_DIRECTORY.md): the
/// experiment config as resolved, the prepared datasets and the planned tasks. Written once by
/// whatever creates or resumes a run (`ExperimentSetup.prepare`); `seafold report` and
/// `seafold export` read it instead of parsing the config, rebuilding the packs and planning again.
public struct RunPlan: Codable, Equatable, Sendable {
    /// The format this build writes and reads. A change to the meaning of a field bumps it.
    public static let currentFormat = 1
    public static let fileName = "plan.json"
    /// Where the previous plan is kept when a changed config replaces it.
    public static let previousFileName = "plan.previous.json"

    public var format: Int
    /// The config text as given (the report prints it), and the config as resolved from it
    /// (presets applied, paths absolute).
    public var configYAML: String
    public var config: ExperimentConfig
    /// sha256 of the user's pretrained weights file; nil for `synthetic` and `random`.
    public var pretrainedFileHash: String?
    public var datasets: [PlannedDataset]
    /// The task graph in plan order; ids are content-derived (`PlannedTask`).
    public var tasks: [PlannedTask]

    public init(configYAML: String, config: ExperimentConfig, pretrainedFileHash: String?, datasets: [PlannedDataset], tasks: [PlannedTask]) {
        self.format = RunPlan.currentFormat
        self.configYAML = configYAML; self.config = config; self.pretrainedFileHash = pretrainedFileHash
        self.datasets = datasets; self.tasks = tasks
    }

    public var graph: TaskGraph { TaskGraph(tasks: tasks) }

    /// The report's input from whatever has finished (paths in it relative to `runDirectory`).
    public func results(completed: [CompletedTask], incomplete: [IncompleteTask], timeline: [TimelineEntry],
                        softwareVersion: String, runDirectory: URL) -> RunResults {
        var sheets: [String: String] = [:]
        for d in datasets { if let s = d.contactSheet { sheets[d.name] = s } }
        return ResultsCollector.collect(config: config, configYAML: configYAML, softwareVersion: softwareVersion,
                                        datasets: datasets.map(\.summary), completed: completed, incomplete: incomplete,
                                        timeline: timeline, contactSheets: sheets, runDirectory: runDirectory)
    }
}

/// One prepared dataset as the plan records it: what the report and the planner need (class
/// names, labels, fold assignment) and the identity of its pack files, without the pack itself.
public struct PlannedDataset: Codable, Equatable, Sendable {
    public var name: String
    /// Class names, index = class.
    public var classes: [String]
    /// Images per class, index = class.
    public var classCounts: [Int]
    /// The class of each image, in pack order (the folds are computed from these).
    public var labels: [Int]
    /// sha256 identifying the pack's contents (the `datasetHash` of its tasks).
    public var packHash: String
    /// sha256 of each pack file by name ("images.npy", "meta.json", "masks.npy").
    public var packFiles: [String: String]
    /// The test fold of each image when the dataset has a folds file; nil = stratified folds.
    public var foldAssignment: [Int]?
    /// The contact sheet PNG relative to the run directory, if one was made.
    public var contactSheet: String?

    public init(summary: DatasetSummary, packFiles: [String: String], contactSheet: String?) {
        name = summary.name; classes = summary.classes; labels = summary.labels
        classCounts = (0..<summary.classes.count).map { c in summary.labels.filter { $0 == c }.count }
        packHash = summary.hash; self.packFiles = packFiles
        foldAssignment = summary.foldAssignment; self.contactSheet = contactSheet
    }

    /// The planner's view of this dataset.
    public var summary: DatasetSummary {
        DatasetSummary(name: name, classes: classes, labels: labels, hash: packHash, foldAssignment: foldAssignment)
    }
}

extension RunPlan {
    /// The plan of `runDirectory`. A directory made before plans were saved, a damaged file or a
    /// newer format is an error naming the file and saying what would fix it.
    public static func load(runDirectory: URL) throws -> RunPlan {
        let url = runDirectory.appendingPathComponent(fileName)
        guard let data = try? Data(contentsOf: url) else {
            let has = { FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent($0).path) }
            let rebuild = "`seafold report --run-dir \(runDirectory.path) --rebuild-plan`"
            let reason: String
            if has("experiment.yaml") {
                reason = "this run directory has no saved plan (it was made by an older seafold); run \(rebuild) to plan it again from its experiment.yaml (the dataset packs are rebuilt if missing)"
            } else if has("ledger.sqlite") || has("local") {
                reason = "this run directory has no saved plan (it was made by an older seafold) and no experiment.yaml either; copy the run's config to \(runDirectory.appendingPathComponent("experiment.yaml").path), then run \(rebuild)"
            } else {
                reason = "no saved plan: this is not a run directory, or its run never started (start it with `seafold run` or `seafold coordinator`)"
            }
            throw SeafoldError.io(path: url.path, reason: reason)
        }
        return try decode(data, path: url.path)
    }

    /// Decodes a plan file's bytes; `path` names the file in errors.
    public static func decode(_ data: Data, path: String) throws -> RunPlan {
        struct Header: Decodable { var format: Int? }
        guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw SeafoldError.badInput(path: path, reason: "not a JSON plan (damaged?); delete it and run `seafold report --run-dir DIR --rebuild-plan` to plan again from experiment.yaml")
        }
        guard let format = header.format else {
            throw SeafoldError.badInput(path: path, reason: "no \"format\" field: not a seafold plan")
        }
        guard format <= currentFormat else {
            throw SeafoldError.badInput(path: path, reason: "plan format \(format) is newer than this seafold reads (\(currentFormat)); use the seafold version that made the run")
        }
        do { return try JSONDecoder().decode(RunPlan.self, from: data) } catch {
            throw SeafoldError.badInput(path: path, reason: "plan format \(format) does not decode (\(String("\(error)".prefix(300)))); delete it and run `seafold report --run-dir DIR --rebuild-plan` to plan again from experiment.yaml")
        }
    }

    /// The bytes of plan.json: sorted keys, so equal plans are equal files.
    public func encoded() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try enc.encode(self)
    }

    /// Writes RUN/plan.json atomically (a temporary file in the same directory, then rename), so
    /// a reader never sees half a plan and a crash leaves the old one whole.
    public func write(runDirectory: URL) throws {
        let url = runDirectory.appendingPathComponent(RunPlan.fileName)
        let tmp = runDirectory.appendingPathComponent(".\(RunPlan.fileName).\(getpid()).tmp")
        do {
            try encoded().write(to: tmp)
            try atomicReplace(url, with: tmp)
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw SeafoldError.io(path: url.path, reason: "cannot write the run's plan: \(error)")
        }
    }
}

extension RunPlan {
    /// Writes this plan as RUN/plan.json unless the same plan is there already. A different
    /// saved plan (a changed config, changed images, or a seafold that plans differently) is kept
    /// as plan.previous.json and the differences are returned as warnings, so the caller says
    /// them: a plan is never replaced silently.
    public func save(runDirectory: URL) throws -> [String] {
        let url = runDirectory.appendingPathComponent(RunPlan.fileName)
        guard let data = try? Data(contentsOf: url) else {
            try write(runDirectory: runDirectory)
            return []
        }
        let previous = runDirectory.appendingPathComponent(RunPlan.previousFileName)
        let keepOld = {
            try? FileManager.default.removeItem(at: previous)
            try FileManager.default.copyItem(at: url, to: previous)
        }
        let old: RunPlan
        do { old = try RunPlan.decode(data, path: url.path) } catch {
            try keepOld()
            try write(runDirectory: runDirectory)
            return ["\(url.path) could not be read (\(error)); replaced by the plan of this config, the unreadable file kept as \(previous.lastPathComponent)"]
        }
        if old == self { return [] }
        let changes = RunPlanChanges.describe(old: old, new: self)
        try keepOld()
        try write(runDirectory: runDirectory)
        return ["the plan of this config differs from the one saved in \(url.path) (now replaced; the old one is kept as \(previous.lastPathComponent)):\n"
                + changes.map { "  - \($0)" }.joined(separator: "\n")]
    }
}

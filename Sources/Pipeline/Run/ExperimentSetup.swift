import Foundation
import SeafoldCore

/// A run directory made ready: the frozen config, the prepared dataset packs and the task graph,
/// saved as RUN/plan.json (`RunPlan`). The same on first start and on resume (packs are reused,
/// ids are content-derived), so a restarted coordinator finds exactly the tasks its ledger
/// already knows.
public struct ExperimentSetup {
    /// The resolved config, the datasets and the task graph, as written to RUN/plan.json.
    public var plan: RunPlan
    public var runDirectory: URL
    public var datasets: [DatasetPack.Prepared]
    public var warnings: [String]

    public var config: ExperimentConfig { plan.config }
    public var configYAML: String { plan.configYAML }
    public var graph: TaskGraph { plan.graph }

    /// `prepare(config:yaml:…)` for a config given as text (parsed here, once), or, with `yaml`
    /// nil, a resume from the run's frozen experiment.yaml.
    public static func prepare(yaml: String?, runDirectory: URL, baseDirectory: URL? = nil,
                               progress: ((String) -> Void)? = nil) throws -> ExperimentSetup {
        guard let yaml else { return try prepare(.frozen(baseDirectory: baseDirectory), runDirectory: runDirectory, progress: progress) }
        let config = try ConfigLoader.parse(yaml, baseDirectory: baseDirectory)
        return try prepare(config: config, yaml: yaml, runDirectory: runDirectory, progress: progress)
    }

    /// Freezes `yaml` as RUN/experiment.yaml, prepares the datasets, plans, and writes
    /// RUN/plan.json. `config` is `yaml` already parsed: the config is parsed once, by the caller.
    ///
    /// The config is checked (dataset folders, pretrained weights) before anything is written: a
    /// bad `--config` must not overwrite an existing run's frozen config or plan (report and
    /// resume read them). A run directory this call created is removed again if it fails.
    public static func prepare(config: ExperimentConfig, yaml: String, runDirectory: URL,
                               progress: ((String) -> Void)? = nil) throws -> ExperimentSetup {
        try checkInputsExist(config)
        return try prepare(.given(config, yaml), runDirectory: runDirectory, progress: progress)
    }

    /// Where the config comes from: given (parsed by the caller) or the run's frozen copy.
    enum Source {
        case given(ExperimentConfig, String)
        case frozen(baseDirectory: URL?)
    }

    static func prepare(_ source: Source, runDirectory: URL, progress: ((String) -> Void)?) throws -> ExperimentSetup {
        let fm = FileManager.default
        let existed = fm.fileExists(atPath: runDirectory.path)
        try fm.createDirectory(at: runDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        do {
            return try prepareChecked(source, runDirectory: runDirectory, progress: progress)
        } catch {
            if !existed { try? fm.removeItem(at: runDirectory) }
            throw error
        }
    }

    /// The paths a config names must exist (checked again while preparing; this is the early,
    /// side-effect-free check).
    static func checkInputsExist(_ config: ExperimentConfig) throws {
        let fm = FileManager.default
        for d in config.datasets {
            if let p = d.path, !fm.fileExists(atPath: p) {
                throw SeafoldError.config(key: "datasets[\(d.name)].path", reason: "folder '\(p)' does not exist")
            }
            if let f = d.foldsFile, !fm.fileExists(atPath: f) {
                throw SeafoldError.config(key: "datasets[\(d.name)].folds", reason: "folds file '\(f)' does not exist (write one with `seafold data folds`)")
            }
        }
        if config.pretrained != "synthetic" && config.pretrained != "random" && !fm.fileExists(atPath: config.pretrained) {
            throw SeafoldError.config(key: "pretrained", reason: "weights file '\(config.pretrained)' does not exist (or use 'synthetic' or 'random')")
        }
    }

    private static func prepareChecked(_ source: Source, runDirectory: URL, progress: ((String) -> Void)?) throws -> ExperimentSetup {
        let fm = FileManager.default
        let frozen = runDirectory.appendingPathComponent("experiment.yaml")
        let text: String
        let config: ExperimentConfig
        switch source {
        case let .given(given, yaml):
            if let old = try? String(contentsOf: frozen, encoding: .utf8), old != yaml {
                // A changed config extends the run: unchanged tasks keep their ids and results.
                try? fm.removeItem(at: runDirectory.appendingPathComponent("experiment.previous.yaml"))
                try? fm.copyItem(at: frozen, to: runDirectory.appendingPathComponent("experiment.previous.yaml"))
            }
            try yaml.write(to: frozen, atomically: true, encoding: .utf8)
            text = yaml
            config = given
        case let .frozen(baseDirectory):
            guard let old = try? String(contentsOf: frozen, encoding: .utf8) else {
                throw SeafoldError.io(path: frozen.path, reason: "no experiment config in this run directory (start the run with --config or --preset)")
            }
            text = old
            do { config = try ConfigLoader.parse(text, baseDirectory: baseDirectory) } catch let e as SeafoldError {
                throw SeafoldError.badInput(path: frozen.path, reason: e.description)
            }
        }
        try checkInputsExist(config)
        var packs: [DatasetPack.Prepared] = []
        var warnings: [String] = []
        for d in config.datasets {
            let seed = SeededGenerator.derivedSeed(config.seed, "dataset/\(d.name)")
            var p = try DatasetPack.prepare(d, inputSize: config.model.inputSize, seed: seed, folds: config.folds,
                                            into: runDirectory.appendingPathComponent("datasets/\(d.name)"), progress: progress)
            warnings += p.warnings
            if d.foldsFile != nil, let metaURL = p.files["meta.json"] {
                let meta = try JSONDecoder().decode(PackMeta.self, from: Data(contentsOf: metaURL))
                if let a = try FoldSplits.assignment(d, files: meta.files, labels: meta.labels, classes: meta.classes, folds: config.folds) {
                    p.summary.foldAssignment = a.folds
                    warnings += a.warnings
                }
            }
            packs.append(p)
        }
        var fileHash: String?
        if config.pretrained != "synthetic" && config.pretrained != "random" {
            fileHash = try sha256Hex(of: URL(fileURLWithPath: config.pretrained))
        }
        let graph = try Planner.plan(config, datasets: packs.map(\.summary), pretrainedFileHash: fileHash)
        let planned = packs.map { p in
            PlannedDataset(summary: p.summary, packFiles: p.fileHashes,
                           contactSheet: p.contactSheet.map { ResultsCollector.relativePath($0, to: runDirectory) })
        }
        let plan = RunPlan(configYAML: text, config: config, pretrainedFileHash: fileHash, datasets: planned, tasks: graph.tasks)
        warnings += try plan.save(runDirectory: runDirectory)
        return ExperimentSetup(plan: plan, runDirectory: runDirectory, datasets: packs, warnings: warnings)
    }

    /// The report's input from whatever has finished.
    public func results(completed: [CompletedTask], incomplete: [IncompleteTask], timeline: [TimelineEntry], softwareVersion: String) -> RunResults {
        plan.results(completed: completed, incomplete: incomplete, timeline: timeline, softwareVersion: softwareVersion, runDirectory: runDirectory)
    }
}

import Foundation
import SeafoldCore

/// A run directory made ready: the frozen config, the prepared dataset packs and the task graph.
/// The same on first start and on resume (packs are reused, ids are content-derived), so a
/// restarted coordinator finds exactly the tasks its ledger already knows.
public struct ExperimentSetup {
    public var config: ExperimentConfig
    public var configYAML: String
    public var runDirectory: URL
    public var datasets: [DatasetPack.Prepared]
    public var graph: TaskGraph
    public var warnings: [String]

    /// Freezes `yaml` as RUN/experiment.yaml (or checks it equals the frozen copy on resume),
    /// prepares the datasets and plans. `yaml` nil = resume from the frozen copy.
    ///
    /// A new config is parsed and checked (dataset folders, pretrained weights) before anything
    /// is written: a bad `--config` must not overwrite an existing run's frozen config (report
    /// and resume read it). A run directory this call created is removed again if it fails.
    public static func prepare(yaml: String?, runDirectory: URL, baseDirectory: URL? = nil,
                               progress: ((String) -> Void)? = nil) throws -> ExperimentSetup {
        let fm = FileManager.default
        let frozen = runDirectory.appendingPathComponent("experiment.yaml")
        if let yaml {
            let config = try ConfigLoader.parse(yaml, baseDirectory: baseDirectory)
            try checkInputsExist(config)
        }
        let existed = fm.fileExists(atPath: runDirectory.path)
        try fm.createDirectory(at: runDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        do {
            return try prepareChecked(yaml: yaml, runDirectory: runDirectory, frozen: frozen, baseDirectory: baseDirectory, progress: progress)
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

    private static func prepareChecked(yaml: String?, runDirectory: URL, frozen: URL, baseDirectory: URL?,
                                       progress: ((String) -> Void)?) throws -> ExperimentSetup {
        let fm = FileManager.default
        let text: String
        if let yaml {
            if let old = try? String(contentsOf: frozen, encoding: .utf8), old != yaml {
                // A changed config extends the run: unchanged tasks keep their ids and results.
                try? fm.removeItem(at: runDirectory.appendingPathComponent("experiment.previous.yaml"))
                try? fm.copyItem(at: frozen, to: runDirectory.appendingPathComponent("experiment.previous.yaml"))
            }
            try yaml.write(to: frozen, atomically: true, encoding: .utf8)
            text = yaml
        } else {
            guard let old = try? String(contentsOf: frozen, encoding: .utf8) else {
                throw SeafoldError.io(path: frozen.path, reason: "no experiment config in this run directory (start the run with --config or --preset)")
            }
            text = old
        }
        let config: ExperimentConfig
        do { config = try ConfigLoader.parse(text, baseDirectory: baseDirectory) } catch let e as SeafoldError {
            throw SeafoldError.badInput(path: frozen.path, reason: e.description)
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
        return ExperimentSetup(config: config, configYAML: text, runDirectory: runDirectory, datasets: packs, graph: graph, warnings: warnings)
    }

    /// Contact sheets relative to the run directory, for the report.
    public var contactSheets: [String: String] {
        var out: [String: String] = [:]
        for p in datasets { if let s = p.contactSheet { out[p.summary.name] = ResultsCollector.relativePath(s, to: runDirectory) } }
        return out
    }

    /// The report's input from whatever has finished.
    public func results(completed: [CompletedTask], incomplete: [IncompleteTask], timeline: [TimelineEntry], softwareVersion: String) -> RunResults {
        ResultsCollector.collect(config: config, configYAML: configYAML, softwareVersion: softwareVersion, datasets: datasets.map(\.summary),
                                 completed: completed, incomplete: incomplete, timeline: timeline, contactSheets: contactSheets,
                                 runDirectory: runDirectory)
    }
}

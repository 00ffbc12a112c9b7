import Foundation
import SeafoldCore

/// Builds the report's `RunResults` from whatever tasks have finished. Missing results become
/// gaps with their reason, never zeros.
public enum ResultsCollector {
    public static func collect(config: ExperimentConfig, configYAML: String, softwareVersion: String,
                               datasets: [DatasetSummary], completed: [CompletedTask], incomplete: [IncompleteTask],
                               timeline: [TimelineEntry], contactSheets: [String: String], runDirectory: URL) -> RunResults {
        var heads: [HeadResult] = [], divs: [DivergenceResult] = [], curves: [TrainingCurve] = [], expl: [ExplainedImage] = []
        var figures: [String: String] = [:]
        // A result that does not decode is a gap whose reason names the task and the field
        // (`UnreadableResult`); it never vanishes from the report.
        var unreadable: [IncompleteTask] = []
        for c in completed.sorted(by: { $0.task.id < $1.task.id }) {
            let result: TaskResult
            do { result = try TaskResult.decode(c.result, of: c.task, source: c.resultSource) } catch {
                unreadable.append(IncompleteTask(task: c.task, reason: "unreadable: \(String("\(error)".prefix(600)))"))
                continue
            }
            switch result {
            case let .finetune(r), let .baseline(r):
                heads.append(r.output); curves.append(r.curve)
            case let .heads(r):
                heads.append(r.head)
                if let cv = r.curve { curves.append(cv) }
            case let .divergence(r):
                divs.append(r)
            case let .explain(r):
                expl.append(contentsOf: r)
                for e in r {
                    if let f = e.figure, let url = c.artifacts[f] {
                        figures[f] = relativePath(url, to: runDirectory)
                    }
                }
            case .pretrain: break
            }
        }
        let incomplete = incomplete + unreadable
        heads.sort { ($0.shard, $0.model.rawValue, $0.head.rawValue) < ($1.shard, $1.model.rawValue, $1.head.rawValue) }
        divs.sort { $0.shard < $1.shard }
        curves.sort { ($0.shard, $0.model.rawValue, $0.head?.rawValue ?? "") < ($1.shard, $1.model.rawValue, $1.head?.rawValue ?? "") }
        expl.sort { ($0.shard, $0.imageIndex) < ($1.shard, $1.imageIndex) }

        var columns: [String] = []
        for d in config.datasets { for v in d.variants { columns.append("\(d.name)/\(v.rawValue)") } }

        var dists: [FoldDistribution] = []
        for d in datasets {
            if let splits = try? StratifiedSplits.splits(config: config, dataset: d) {
                let counts = splits.map { test in (0..<d.classes.count).map { c in test.filter { d.labels[$0] == c }.count } }
                dists.append(FoldDistribution(dataset: d.name, classes: d.classes, counts: counts))
            }
        }

        // For heads the report matches a gap to its cell by "MODEL head" in `detail`.
        let missing = incomplete.sorted { $0.task.id < $1.task.id }.map { m -> MissingResult in
            let s = m.task.spec
            let detail = m.task.kind == .heads ? "\(s.model?.rawValue ?? "") \(s.head?.rawValue ?? "")" : m.task.label
            return MissingResult(taskKind: m.task.kind.rawValue, shard: s.shard, detail: detail, reason: m.reason)
        }
        return RunResults(configYAML: configYAML, softwareVersion: softwareVersion,
                          minorityClass: minorityClass(config: config, datasets: datasets), columns: columns,
                          heads: heads, divergences: divs, curves: curves, explanations: expl, foldDistributions: dists,
                          missing: missing, timeline: timeline, contactSheets: contactSheets, figures: figures, ddof: config.divergence.ddof,
                          lime: config.lime)
    }

    /// The configured minority class, or the rarest class over all datasets.
    static func minorityClass(config: ExperimentConfig, datasets: [DatasetSummary]) -> String {
        if let m = config.report.minorityClass { return m }
        var counts: [String: Int] = [:]
        for d in datasets { for l in d.labels { counts[d.classes[l], default: 0] += 1 } }
        return counts.min { ($0.value, $0.key) < ($1.value, $1.key) }?.key ?? ""
    }

    /// `url` relative to `base` when it lies inside it, else its full path.
    public static func relativePath(_ url: URL, to base: URL) -> String {
        let p = url.standardizedFileURL.path, b = base.standardizedFileURL.path + "/"
        return p.hasPrefix(b) ? String(p.dropFirst(b.count)) : p
    }
}

import Datasets

/// The test indices of each fold (of repeat 0), as the tasks compute them.
enum StratifiedSplits {
    static func splits(config: ExperimentConfig, dataset: DatasetSummary) throws -> [[Int]] {
        try (0..<config.folds).map { try FoldSplits.split(config: config, dataset: dataset, shard: ShardKey(dataset: dataset.name, variant: .balanced, fold: $0)).test }
    }
}

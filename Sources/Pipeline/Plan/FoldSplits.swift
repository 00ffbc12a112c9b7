import Datasets
import Foundation
import SeafoldCore

/// How a task's folds are made: the one place that turns (rule, folds, seed, repeat, folds-file
/// assignment) into train/test indices, so the tasks, the planner's size estimates and the
/// report's fold distributions can never disagree.
///
/// Rules (`FoldRule`): "sklearn" — `StratifiedKFold(folds, shuffle=True,
/// random_state=seed)`, and for repeat r > 0 repetition r of `RepeatedStratifiedKFold(folds,
/// n_repeats, random_state=seed)`; "sklearn-unshuffled" — `StratifiedKFold(folds,
/// shuffle=False)`; "file" — the test fold of each image given by a folds file.
public enum FoldSplits {
    public static let seeded = FoldRule.sklearn
    public static let unshuffled = FoldRule.sklearnUnshuffled
    public static let file = FoldRule.file

    /// The rule a dataset of `config` uses.
    public static func rule(_ config: ExperimentConfig, dataset: DatasetConfig) -> FoldRule {
        dataset.foldsFile != nil ? file : (config.shuffle ? seeded : unshuffled)
    }

    /// The test fold of every sample.
    public static func testFolds(labels: [Int], folds: Int, seed: UInt64, rule: FoldRule?, repeat r: Int = 0, assignment: [Int]? = nil) throws -> [Int] {
        switch rule ?? .sklearn {
        case .file:
            guard let a = assignment, a.count == labels.count else {
                throw SeafoldError.config(key: "folds", reason: "the folds file's assignment (\(assignment?.count ?? 0) images) does not match the dataset (\(labels.count) images); re-plan the run")
            }
            guard r == 0 else { throw SeafoldError.config(key: "repeats", reason: "a folds file gives one split; repeat \(r + 1) does not exist") }
            return a
        case .sklearnUnshuffled:
            return try StratifiedKFold(nSplits: folds, shuffle: false, seed: 0).testFolds(labels: labels).folds
        case .sklearn:
            return try StratifiedKFold(nSplits: folds, shuffle: true, seed: seed).testFolds(labels: labels, repetition: r).folds
        }
    }

    /// Train and test indices (ascending) of `fold`.
    public static func split(labels: [Int], folds: Int, fold: Int, seed: UInt64, rule: FoldRule?, repeat r: Int = 0, assignment: [Int]? = nil) throws -> (train: [Int], test: [Int]) {
        let t = try testFolds(labels: labels, folds: folds, seed: seed, rule: rule, repeat: r, assignment: assignment)
        guard fold >= 0, fold < folds else { throw SeafoldError.config(key: "folds", reason: "fold \(fold) does not exist among \(folds)") }
        return (t.indices.filter { t[$0] != fold }, t.indices.filter { t[$0] == fold })
    }

    /// The split of a shard task.
    public static func split(labels: [Int], selection s: FoldSelection, seed: UInt64) throws -> (train: [Int], test: [Int]) {
        try split(labels: labels, folds: s.folds, fold: s.shard.fold, seed: seed, rule: s.rule, repeat: s.shard.repeat, assignment: s.assignment)
    }

    /// The split of `shard` as the experiment's tasks make it (for estimates made from the config).
    public static func split(config: ExperimentConfig, dataset: DatasetSummary, shard: ShardKey) throws -> (train: [Int], test: [Int]) {
        let rule = config.datasets.first(where: { $0.name == dataset.name }).map { self.rule(config, dataset: $0) } ?? seeded
        return try split(labels: dataset.labels, folds: config.folds, fold: shard.fold, seed: config.seed, rule: rule,
                         repeat: shard.repeat, assignment: dataset.foldAssignment)
    }

    /// Reads a dataset's folds file against its image list (pack order).
    public static func assignment(_ dataset: DatasetConfig, files: [String], labels: [Int], classes: [String], folds: Int) throws -> (folds: [Int], warnings: [String])? {
        guard let path = dataset.foldsFile else { return nil }
        return try FoldsFile.read(URL(fileURLWithPath: path), paths: files, labels: labels, classes: classes, folds: folds)
    }
}

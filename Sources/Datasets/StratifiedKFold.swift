import Foundation
import SeafoldCore

/// Stratified K-fold cross-validation, exactly scikit-learn's
/// `StratifiedKFold(n_splits, shuffle, random_state=seed)` (`_make_test_folds`).
///
/// Classes are encoded in order of first appearance; `y_order = sort(y_encoded)`; fold `i`
/// receives `bincount(y_order[i::k])` members of each class; within a class the fold ids
/// `repeat(0..<k, allocation[:, c])` are given to its samples in data order — after
/// `rng.shuffle` of that id array per class (classes in encoded order, one
/// `np.random.RandomState(seed)` for all classes, see `NumpyRandomState`) when `shuffle` is on.
/// So the same labels in the same order give the same folds as scikit-learn, bit for bit.
/// `repeatedTestFolds` is `RepeatedStratifiedKFold`: repeat r continues the same RandomState.
/// Fewer members than folds in some class: a warning (scikit-learn's UserWarning); in every
/// class: an error (scikit-learn's ValueError).
public struct StratifiedKFold: Sendable {
    public let nSplits: Int
    public let shuffle: Bool
    public let seed: UInt64

    public init(nSplits: Int, shuffle: Bool, seed: UInt64) {
        self.nSplits = nSplits
        self.shuffle = shuffle
        self.seed = seed
    }

    /// The test fold of every sample, plus warnings.
    public func testFolds(labels: [Int]) throws -> (folds: [Int], warnings: [String]) {
        var rng = try NumpyRandomState(seed: shuffle ? seed : 0)
        return try testFolds(labels: labels, rng: &rng)
    }

    /// The test folds of `repeats` repetitions, as `RepeatedStratifiedKFold(n_splits, n_repeats,
    /// random_state=seed)` yields them: one RandomState, each repetition shuffling after the
    /// previous one. Repetition 0 equals `testFolds(labels:)`.
    public func repeatedTestFolds(labels: [Int], repeats: Int) throws -> [[Int]] {
        guard repeats >= 1 else { throw SeafoldError.config(key: "repeats", reason: "\(repeats) repeats; use at least 1") }
        var rng = try NumpyRandomState(seed: shuffle ? seed : 0)
        return try (0..<repeats).map { _ in try testFolds(labels: labels, rng: &rng).folds }
    }

    /// The test folds of repetition `repetition` (0-based) of `RepeatedStratifiedKFold(n_splits,
    /// n_repeats > repetition, random_state=seed)`, with repetition 0's warnings; repetition 0
    /// is `testFolds(labels:)`. The one rule the tasks and `seafold data folds` share.
    public func testFolds(labels: [Int], repetition: Int) throws -> (folds: [Int], warnings: [String]) {
        guard repetition >= 0 else { throw SeafoldError.config(key: "repeat", reason: "repetition \(repetition); use 0 or more") }
        var rng = try NumpyRandomState(seed: shuffle ? seed : 0)
        var result = try testFolds(labels: labels, rng: &rng)
        for _ in 0..<repetition { result.folds = try testFolds(labels: labels, rng: &rng).folds }
        return result
    }

    /// One `_make_test_folds` with a given RandomState (advanced by the shuffles).
    public func testFolds(labels: [Int], rng: inout NumpyRandomState) throws -> (folds: [Int], warnings: [String]) {
        guard nSplits >= 2 else {
            throw SeafoldError.config(key: "folds", reason: "\(nSplits) folds; cross-validation needs at least 2")
        }
        guard labels.count >= nSplits else {
            throw SeafoldError.config(key: "folds", reason: "cannot make \(nSplits) folds from \(labels.count) samples (scikit-learn: n_splits greater than the number of samples); use fewer folds or more images")
        }
        var code: [Int: Int] = [:]
        var encoded: [Int] = []
        encoded.reserveCapacity(labels.count)
        for y in labels {
            if let c = code[y] { encoded.append(c) } else { code[y] = code.count; encoded.append(code.count - 1) }
        }
        let nClasses = code.count
        var counts = [Int](repeating: 0, count: nClasses)
        for e in encoded { counts[e] += 1 }
        if counts.allSatisfy({ $0 < nSplits }) {
            throw SeafoldError.config(key: "folds", reason: "n_splits=\(nSplits) cannot be greater than the number of members in each class (scikit-learn's ValueError): every class has fewer than \(nSplits) members (the largest has \(counts.max() ?? 0)); use fewer folds")
        }
        var warnings: [String] = []
        if let least = counts.min(), least < nSplits {
            let originalLabel = code.first(where: { $0.value == counts.firstIndex(of: least)! })!.key
            warnings.append("the least populated class in y (label \(originalLabel)) has only \(least) members, which is less than n_splits=\(nSplits) (scikit-learn warns the same)")
        }
        let order = encoded.sorted()
        var allocation = [[Int]](repeating: [Int](repeating: 0, count: nClasses), count: nSplits)
        for (pos, c) in order.enumerated() { allocation[pos % nSplits][c] += 1 }
        var folds = [Int](repeating: 0, count: labels.count)
        for c in 0..<nClasses {
            var ids: [Int] = []
            for f in 0..<nSplits { ids += [Int](repeating: f, count: allocation[f][c]) }
            if shuffle { rng.shuffle(&ids) }
            var next = 0
            for i in encoded.indices where encoded[i] == c { folds[i] = ids[next]; next += 1 }
        }
        return (folds, warnings)
    }

    /// (train, test) index lists, fold 0 first; indices ascending, as scikit-learn yields them.
    public func split(labels: [Int]) throws -> [(train: [Int], test: [Int])] {
        let folds = try testFolds(labels: labels).folds
        return (0..<nSplits).map { f in
            (train: folds.indices.filter { folds[$0] != f }, test: folds.indices.filter { folds[$0] == f })
        }
    }
}

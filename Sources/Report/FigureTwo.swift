import Foundation
import Pipeline

/// Figure 2 of the paper: the class distribution of each fold's test part, panels (a)–(c), and
/// of all folds together, panel (d). The folds partition the dataset, so panel (d) is the
/// per-class sum over the folds: the whole dataset's class counts.
enum FigureTwo {
    /// counts per class summed over the folds (a fold's missing class counts as 0 there).
    static func allFolds(_ d: FoldDistribution) -> [Int] {
        d.classes.indices.map { k in d.counts.reduce(0) { $0 + (k < $1.count ? $1[k] : 0) } }
    }
}

import Foundation
import Pipeline
import TestSupport
import XCTest

/// A small, fixed RunResults built by hand for the aggregation and golden-file tests.
/// Two classes (crater = minority, rock); column A has 3 folds, column B 2 folds.
enum Fixture {
    static let colA = "single-site/balanced"
    static let colB = "multi-site/imbalanced"

    static func key(_ column: String, _ fold: Int) -> ShardKey {
        let parts = column.split(separator: "/").map(String.init)
        return ShardKey(dataset: parts[0], variant: SamplingVariant(rawValue: parts[1])!, fold: fold)
    }

    /// A head result whose per-class numbers are given directly (class 0 = crater).
    static func head(_ column: String, _ fold: Int, _ model: ModelKind, _ head: HeadKind,
                     acc: Double, p: Double, r: Double) -> HeadResult {
        HeadResult(shard: key(column, fold), model: model, head: head, classes: ["crater", "rock"],
                   confusion: [[1, 2], [1, 6]], accuracy: acc, precision: [p, 0.75], recall: [r, 0.85],
                   f1: [2 * p * r / max(p + r, 1e-12), 0.8], labels: [0, 0, 0, 1, 1, 1, 1, 1, 1, 1],
                   predictions: [0, 1, 1, 0, 1, 1, 1, 1, 1, 1])
    }

    static func results(ddof: Int = 0) -> RunResults {
        var heads: [HeadResult] = []
        // column A, 3 folds. acc / crater precision / crater recall
        let a: [(ModelKind, HeadKind, [Double?], Double, Double)] = [
            (.ft, .svm, [0.80, 0.70, 0.90], 0.20, 0.10),
            (.base, .svm, [0.75, 0.65, 0.80], 0.10, 0.30),
            (.ft, .knn, [0.60, nil, 0.80], 0.40, 0.05),
            (.base, .knn, [0.50, 0.55, 0.60], 0.30, 0.05),
            (.ft, .fc, [0.70, 0.70, 0.70], 0.25, 0.20),
            (.ft, .output, [0.85, 0.75, 0.95], 0.25, 0.20),
            (.base, .output, [0.70, 0.60, 0.80], 0.25, 0.20),
        ]
        for (model, h, accs, p, r) in a {
            for (fold, acc) in accs.enumerated() {
                guard let acc else { continue }
                // precision varies by fold: p, p+0.1, p+0.2
                heads.append(head(colA, fold, model, h, acc: acc, p: p + 0.1 * Double(fold), r: r))
            }
        }
        let b: [(ModelKind, HeadKind, [Double], Double, Double)] = [
            (.ft, .svm, [0.90, 0.80], 0.50, 0.40),
            (.base, .svm, [0.60, 0.70], 0.30, 0.20),
            (.ft, .knn, [0.50, 0.70], 0.20, 0.10),
            (.base, .knn, [0.40, 0.60], 0.60, 0.30),
            (.ft, .fc, [0.65, 0.75], 0.10, 0.10),
            (.base, .fc, [0.55, 0.65], 0.10, 0.50),
        ]
        for (model, h, accs, p, r) in b {
            for (fold, acc) in accs.enumerated() {
                heads.append(head(colB, fold, model, h, acc: acc, p: p, r: r + 0.1 * Double(fold)))
            }
        }
        func layers(_ scale: Double) -> [LayerDivergenceRow] {
            let kl: [Double] = [0.5, 0.1, 0.1, 0.1, 0.1, 0.3, 0.2]
            let ed: [Double] = [1, 2, 3, 4, 5, 9, 6]
            return zip(["conv1", "conv2", "conv3", "conv4", "conv5", "fc1", "fc2"].indices,
                       ["conv1", "conv2", "conv3", "conv4", "conv5", "fc1", "fc2"]).map { i, name in
                LayerDivergenceRow(layer: name, parameters: ["p\(i)"], kl: kl[i] * scale, euclidean: ed[i] * scale)
            }
        }
        let divergences = [
            DivergenceResult(shard: key(colA, 0), layers: layers(1), bins: 100, epsilon: 1e-10, includeBiases: true),
            DivergenceResult(shard: key(colA, 1), layers: layers(2), bins: 100, epsilon: 1e-10, includeBiases: true),
            // column A fold 3 missing (see `missing`)
            DivergenceResult(shard: key(colB, 0), layers: layers(0.5), bins: 100, epsilon: 1e-10, includeBiases: true),
            DivergenceResult(shard: key(colB, 1), layers: layers(1.5), bins: 100, epsilon: 1e-10, includeBiases: true),
        ]
        let missing = [
            MissingResult(taskKind: "heads", shard: key(colA, 1), detail: "FT knn", reason: "worker w2 lost"),
            MissingResult(taskKind: "baseline", shard: key(colA, 0), detail: "Base fc", reason: "failed: out of memory"),
            MissingResult(taskKind: "divergence", shard: key(colA, 2), detail: "", reason: "not run yet"),
        ]
        let curves = [
            TrainingCurve(shard: key(colA, 0), model: .ft, epochs: [
                EpochStats(epoch: 1, loss: 1.2, accuracy: 0.5), EpochStats(epoch: 2, loss: 0.8, accuracy: 0.7),
                EpochStats(epoch: 3, loss: 0.5, accuracy: 0.8)]),
            TrainingCurve(shard: key(colB, 0), model: .base, epochs: [
                EpochStats(epoch: 1, loss: 1.0, accuracy: 0.6), EpochStats(epoch: 2, loss: 0.9, accuracy: 0.65)]),
        ]
        let explanations = [
            ExplainedImage(shard: key(colA, 0), imageIndex: 7, trueClass: 0, scores: [
                ExplanationScore(model: .ft, explainedClass: 0, probability: 0.9, stability: 0.8, deletionAUC: 0.2,
                                 pointing: 0.6, localR2: 0.5, segments: 40, seconds: 1.5),
                ExplanationScore(model: .base, explainedClass: 0, probability: 0.7, stability: 0.6, deletionAUC: 0.4,
                                 pointing: nil, localR2: 0.3, segments: 40, seconds: 1.4)], figure: "lime_7.png"),
        ]
        let dist = [
            FoldDistribution(dataset: "single-site", classes: ["crater", "rock"], counts: [[2, 8], [3, 7], [2, 8]]),
            FoldDistribution(dataset: "multi-site", classes: ["crater", "rock"], counts: [[1, 9], [2, 8]]),
        ]
        let timeline = [
            TimelineEntry(taskID: "t1", taskKind: "finetune", label: "finetune single-site/balanced/fold1", worker: "w1",
                          start: 0, end: 10, outcome: "done"),
            TimelineEntry(taskID: "t2", taskKind: "heads", label: "heads <FT> & knn", worker: "w2",
                          start: 2, end: 6, outcome: "lost"),
            TimelineEntry(taskID: "t2", taskKind: "heads", label: "heads <FT> & knn", worker: "w1",
                          start: 10, end: nil, outcome: "running"),
        ]
        return RunResults(configYAML: "seed: 1\nname: <demo & \"test\">\n", softwareVersion: "seafold 0.1.0-test",
                          minorityClass: "crater", columns: [colA, colB], heads: heads, divergences: divergences,
                          curves: curves, explanations: explanations, foldDistributions: dist, missing: missing,
                          timeline: timeline, contactSheets: ["single-site": "sheets/single-site.png"],
                          figures: ["lime_7.png": "figures/lime_7.png", "absent": "figures/absent.png"], ddof: ddof)
    }

    /// A run directory with the fixture's contact sheet and one of its two LIME figures
    /// (the other is missing on purpose, to show as a gap); removed after `test` ends, or kept
    /// when there is none.
    static func makeRunDirectory(removedAfter test: XCTestCase?) throws -> URL {
        let run = try test?.makeTemporaryDirectory("seafold-report") ?? TemporaryDirectory.make("seafold-report")
        try FileManager.default.createDirectory(at: run.appendingPathComponent("sheets"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: run.appendingPathComponent("figures"), withIntermediateDirectories: true)
        try TinyPNG.rgb(width: 96, height: 64) { x, y in ((x / 8 + y / 8) % 2 == 0 ? (40, 60, 90) : (200, 190, 150)) }
            .write(to: run.appendingPathComponent("sheets/single-site.png"))
        try TinyPNG.rgb(width: 96, height: 32) { x, y in (UInt8(x * 2), UInt8(y * 6), 120) }
            .write(to: run.appendingPathComponent("figures/lime_7.png"))
        return run
    }
}

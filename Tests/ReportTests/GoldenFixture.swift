import Foundation
import Pipeline

/// The smallest RunResults that exercises every table feature, for the golden-file tests:
/// one column, 2 folds; KNN FT has fold 2 missing, KNN Base and FC have nothing, only conv1
/// and fc1 have divergences (their KL means tie at 0.2, so both are bold).
enum GoldenFixture {
    static func results() -> RunResults {
        func key(_ fold: Int) -> ShardKey { ShardKey(dataset: "ms", variant: .balanced, fold: fold) }
        func head(_ fold: Int, _ model: ModelKind, _ h: HeadKind, _ acc: Double, _ p: Double, _ r: Double) -> HeadResult {
            HeadResult(shard: key(fold), model: model, head: h, classes: ["crater", "rock"], confusion: [[1, 1], [0, 2]],
                       accuracy: acc, precision: [p, 0.5], recall: [r, 0.5], f1: [0.5, 0.5], labels: [], predictions: [])
        }
        let heads = [
            head(0, .ft, .svm, 0.8, 0.5, 1.0), head(1, .ft, .svm, 0.9, 0.25, 0.5),
            head(0, .base, .svm, 0.7, 0.125, 0.5), head(1, .base, .svm, 0.6, 0.375, 0.5),
            head(0, .ft, .knn, 0.5, 0.2, 0.1),
        ]
        func div(_ fold: Int, _ kl1: Double, _ ed1: Double, _ kl6: Double, _ ed6: Double) -> DivergenceResult {
            DivergenceResult(shard: key(fold), layers: [
                LayerDivergenceRow(layer: "conv1", parameters: ["features.0.weight"], kl: kl1, euclidean: ed1),
                LayerDivergenceRow(layer: "fc1", parameters: ["classifier.1.weight"], kl: kl6, euclidean: ed6)],
                bins: 10, epsilon: 1e-10, includeBiases: false)
        }
        return RunResults(configYAML: "seed: 7\n", softwareVersion: "seafold test", minorityClass: "crater",
                          columns: ["ms/balanced"], heads: heads, divergences: [div(0, 0.1, 1, 0.2, 3), div(1, 0.3, 2, 0.2, 5)],
                          missing: [MissingResult(taskKind: "heads", shard: key(1), detail: "FT knn", reason: "failed: boom")])
    }
}

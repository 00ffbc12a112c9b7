import Engine
import Foundation
import SeafoldCore
import WeightStats

/// `divergence(dataset, variant, fold)`: per layer (conv1–5, fc1, fc2), KL(FT‖pretrained) of
/// histograms on shared bin edges and the Euclidean distance (paper §2.1, Table 3), plus the
/// paired swap test's null draws of KL for the per-layer significance (docs/STATISTICS.md).
/// The output layer is left out, as in the paper: it was replaced.
enum DivergenceTask {
    static func run(_ spec: DivergenceSpec, io: TaskIO) throws -> TaskOutput {
        let shard = spec.shard, d = spec.divergence
        guard let placement = EpsilonPlacement(rawValue: d.epsilonOn) else {
            throw SeafoldError.config(key: "divergence.epsilon_on", reason: "must be 'probabilities' or 'counts', found '\(d.epsilonOn)'")
        }
        let ft = try Safetensors.read(from: try io.input(.ftWeights)).tensors.mapValues { $0.scalars }
        let pre = try Safetensors.read(from: try io.input(.pretrained)).tensors.mapValues { $0.scalars }
        let rows = try LayerComparison.compare(fineTuned: ft, pretrained: pre, bins: d.bins, epsilon: d.epsilon,
                                               epsilonOn: placement, includeBiases: d.includeBiases)
        let seed = SeededGenerator.derivedSeed(spec.seed, "swap-test/\(shard)")
        var out: [LayerDivergenceRow] = []
        for (k, (row, layer)) in zip(rows, PaperLayers.all).enumerated() {
            var null: [Double]?
            if d.permutations > 0 {
                io.progress(Double(k) / Double(rows.count), "divergence \(shard): swap test for \(row.layer) (\(d.permutations) draws)")
                let (a, b) = try LayerComparison.values(layer, fineTuned: ft, pretrained: pre, includeBiases: d.includeBiases)
                null = try SwapNull.nullKL(fineTuned: a, pretrained: b, bins: d.bins, epsilon: d.epsilon, epsilonOn: placement,
                                           draws: d.permutations, seed: SeededGenerator.derivedSeed(seed, row.layer))
            }
            out.append(LayerDivergenceRow(layer: row.layer, parameters: row.parameters, kl: row.kl, euclidean: row.euclidean,
                                          count: row.count, nullKL: null))
        }
        let result = DivergenceResult(shard: shard, layers: out, bins: d.bins, epsilon: d.epsilon, includeBiases: d.includeBiases,
                                      epsilonOn: d.epsilonOn, permutationSeed: d.permutations > 0 ? seed : nil)
        return TaskOutput(result: try TaskRunner.encode(result), artifacts: [:])
    }
}

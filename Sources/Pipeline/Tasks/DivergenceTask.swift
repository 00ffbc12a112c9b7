import Engine
import Foundation
import SeafoldCore
import WeightStats

/// `divergence(dataset, variant, fold)`: per layer (conv1–5, fc1, fc2), KL(FT‖pretrained) of
/// histograms on shared bin edges and the Euclidean distance (paper §2.1, Table 3). The output
/// layer is left out, as in the paper: it was replaced.
enum DivergenceTask {
    static func run(_ spec: TaskSpec, io: TaskIO) throws -> TaskOutput {
        let shard = try TaskSupport.require(spec.shard, "shard", .divergence)
        let d = spec.divergence ?? DivergenceConfig()
        let ft = try Safetensors.read(from: try io.input("ft_weights")).tensors.mapValues { $0.scalars }
        let pre = try Safetensors.read(from: try io.input("pretrained")).tensors.mapValues { $0.scalars }
        let rows = try LayerComparison.compare(fineTuned: ft, pretrained: pre, bins: d.bins, epsilon: d.epsilon, includeBiases: d.includeBiases)
        let result = DivergenceResult(shard: shard, layers: rows.map { LayerDivergenceRow(layer: $0.layer, parameters: $0.parameters, kl: $0.kl, euclidean: $0.euclidean) },
                                      bins: d.bins, epsilon: d.epsilon, includeBiases: d.includeBiases)
        return TaskOutput(result: try TaskRunner.encode(result), artifacts: [:])
    }
}

import Foundation
import SeafoldCore

/// Produces the order of training-subset indices for one epoch.
public protocol EpochSampler {
    mutating func epoch(rng: inout SeededGenerator) -> [Int]
}

/// torchsampler's `ImbalancedDatasetSampler` (the paper's reference [7]): each training sample
/// weighs 1 / (count of its class in the training set); an epoch is `labels.count` draws by
/// multinomial sampling with replacement (cumulative weights + binary search over a uniform
/// draw). Classes are balanced in expectation, not per batch; minority samples repeat.
/// Indices are into the training subset, i.e. into `labels`.
public struct BalancedSampler: EpochSampler, Sendable {
    public let labels: [Int]
    public let weights: [Double]
    private let cumulative: [Double]

    public init(labels: [Int]) {
        self.labels = labels
        var counts: [Int: Int] = [:]
        for y in labels { counts[y, default: 0] += 1 }
        weights = labels.map { 1 / Double(counts[$0]!) }
        var acc = 0.0
        cumulative = weights.map { acc += $0; return acc }
    }

    /// Index of the sample a uniform draw u ∈ [0, 1) selects.
    @inline(__always) func pick(_ u: Double) -> Int {
        let target = u * (cumulative.last ?? 0)
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {  // first i with cumulative[i] > target
            let mid = (lo + hi) / 2
            if cumulative[mid] > target { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    public mutating func epoch(rng: inout SeededGenerator) -> [Int] {
        guard !labels.isEmpty else { return [] }
        return (0..<labels.count).map { _ in pick(rng.nextDouble()) }
    }
}

/// The paper's "imbalanced" setting: a fresh permutation of the training subset each epoch
/// (PyTorch's `shuffle=True`, sampling without replacement).
public struct ShuffleSampler: EpochSampler, Sendable {
    public let count: Int
    public init(count: Int) { self.count = count }
    public mutating func epoch(rng: inout SeededGenerator) -> [Int] { rng.permutation(count) }
}

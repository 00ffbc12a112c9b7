import SeafoldCore

/// The randomisation null of KL(fine-tuned ‖ pretrained) for one layer: the paired swap
/// (sign-flip) test on the layer's weights.
///
/// H0: fine-tuning did not change the layer's weight distribution — for every weight, its
/// fine-tuned and its pretrained value are exchangeable. Under H0 swapping the two values of
/// any subset of weights leaves the joint distribution unchanged, so the KL of the swapped
/// histograms is a draw from the statistic's null distribution (a randomisation test in the
/// sense of Fisher / Pitman; Good, *Permutation, Parametric and Bootstrap Tests of
/// Hypotheses*, 3rd ed., §3.1–3.3). The test needs no independence between weights and no
/// model of the histogram noise; it is conditional on the observed values. It measures whether
/// the change exceeds what a histogram of this layer's size can show by chance, not whether
/// the change is large or repeats over training runs (that is the fold-level question).
///
/// Each draw swaps every pair independently with probability ½. Only the pair's two bins
/// matter, so the draw is done on the joint bin counts J[a][b] (fine-tuned value in bin a,
/// pretrained in b): of the J[a][b] pairs a Binomial(J[a][b], ½) number swap, moving that
/// many counts from a to b in the fine-tuned histogram and from b to a in the pretrained one.
/// This has exactly the distribution of swapping weight by weight, at a cost of
/// (pairs in off-diagonal cells)/64 random words per draw. The edges (joint min…max) are the
/// same for every draw, since a swap keeps the pooled values.
public enum SwapNull {
    /// `draws` null KL values for the layer (ε and its placement as for the observed KL).
    public static func nullKL(fineTuned: [Float], pretrained: [Float], bins: Int, epsilon: Double,
                              epsilonOn: EpsilonPlacement, draws: Int, seed: UInt64) throws -> [Double] {
        guard fineTuned.count == pretrained.count else {
            throw SeafoldError.mismatch(what: "swap test operands", expected: "\(pretrained.count) values", found: "\(fineTuned.count) values")
        }
        guard draws >= 0 else {
            throw SeafoldError.config(key: "divergence.permutations", reason: "must be 0 or more (got \(draws))")
        }
        if draws == 0 { return [] }
        let edges = try WeightHistogram.jointEdges(fineTuned, pretrained, bins: bins)
        let nb = edges.count - 1
        var ftCounts = [Int](repeating: 0, count: nb), preCounts = [Int](repeating: 0, count: nb)
        // Off-diagonal joint counts, keyed a·nb + b (pairs on the diagonal never move); a flat
        // table while it stays small, else a dictionary.
        let flat = nb <= 2048
        var table = [Int](repeating: 0, count: flat ? nb * nb : 0)
        var joint: [Int: Int] = [:]
        for i in fineTuned.indices {
            guard let a = WeightHistogram.binIndex(Double(fineTuned[i]), edges: edges),
                  let b = WeightHistogram.binIndex(Double(pretrained[i]), edges: edges) else { continue }
            ftCounts[a] += 1; preCounts[b] += 1
            guard a != b else { continue }
            if flat { table[a * nb + b] += 1 } else { joint[a * nb + b, default: 0] += 1 }
        }
        let keys = flat ? table.indices.filter { table[$0] > 0 } : joint.keys.sorted()
        let cells = keys.map { (a: $0 / nb, b: $0 % nb, n: flat ? table[$0] : joint[$0]!) }
        var rng = SeededGenerator(seed: seed)
        var out: [Double] = []
        out.reserveCapacity(draws)
        for _ in 0..<draws {
            var p = ftCounts, q = preCounts
            for c in cells {
                let s = binomialHalf(c.n, &rng)
                p[c.a] -= s; p[c.b] += s
                q[c.b] -= s; q[c.a] += s
            }
            out.append(try WeightComparison.kl(p, q, epsilon: epsilon, epsilonOn: epsilonOn))
        }
        return out
    }

    /// A Binomial(n, ½) draw: the number of ones among n random bits.
    @inline(__always)
    public static func binomialHalf(_ n: Int, _ rng: inout SeededGenerator) -> Int {
        var left = n, s = 0
        while left >= 64 { s += rng.next().nonzeroBitCount; left -= 64 }
        if left > 0 { s += (rng.next() & ((UInt64(1) << UInt64(left)) - 1)).nonzeroBitCount }
        return s
    }
}

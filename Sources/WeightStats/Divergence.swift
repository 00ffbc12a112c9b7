import Foundation
import SeafoldCore

/// Where the KL divergence's ε goes (`divergence.epsilon_on`).
///
/// - `probabilities` (seafold's default): ε is added to each bin's **probability**
///   (count / N), then renormalised: p'_i = (p_i + ε) / (1 + B·ε).
/// - `counts`: ε is added to each bin's **count**, then renormalised: p'_i = (c_i + ε) / (N + B·ε),
///   as code that smooths `np.histogram` counts before normalising does (e.g.
///   `scipy.stats.entropy(counts_ft + eps, counts_pre + eps)`). Equivalent to ε/N on
///   probabilities, so a bin that holds FT mass but no pretrained mass weighs more (KL larger).
public enum EpsilonPlacement: String, Codable, CaseIterable, Sendable {
    case probabilities, counts
}

/// Kullback–Leibler divergence of two discrete distributions (paper eq. 1), natural log (nats,
/// like `scipy.stats.entropy`):
///
///     D(p‖q) = Σ_i p'_i · ln(p'_i / q'_i),   p'_i = (p_i + ε) / Σ_j (p_j + ε),   q'_i likewise.
///
/// ε is added to every bin of **both** inputs, which are then renormalised to sum to 1, so
/// a bin empty in q stays finite. The inputs may be probabilities or raw counts (that choice is
/// `EpsilonPlacement`); ε = 0 gives the plain definition (terms with p_i = 0 add 0; a
/// bin with p_i > 0 = q_i gives +∞, as scipy does). Default ε = 1e-10.
public enum KLDivergence {
    public static let defaultEpsilon = 1e-10

    public static func divergence(p: [Double], q: [Double], epsilon: Double = defaultEpsilon) throws -> Double {
        guard p.count == q.count, !p.isEmpty else {
            throw SeafoldError.mismatch(what: "KL divergence histograms", expected: "two non-empty histograms with the same bins",
                                        found: "\(p.count) and \(q.count) bins")
        }
        guard epsilon >= 0, epsilon.isFinite else {
            throw SeafoldError.config(key: "divergence.epsilon", reason: "epsilon must be finite and ≥ 0 (got \(epsilon))")
        }
        guard (p + q).allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw SeafoldError.badInput(path: "KL divergence", reason: "histogram probabilities must be finite and non-negative")
        }
        let ps = p.reduce(0, +) + epsilon * Double(p.count)
        let qs = q.reduce(0, +) + epsilon * Double(q.count)
        guard ps > 0, qs > 0 else {
            throw SeafoldError.badInput(path: "KL divergence", reason: "a histogram is all zeros and epsilon is 0")
        }
        var d = 0.0
        for i in p.indices {
            let pi = (p[i] + epsilon) / ps
            let qi = (q[i] + epsilon) / qs
            if pi > 0 { d += pi * log(pi / qi) }
        }
        return d
    }
}

/// Fine-tuned versus pretrained parameters of one layer (paper §2.1, §3.3, Table 3).
public enum WeightComparison {
    /// Default number of histogram bins. The paper does not state its count; 100 bins keeps
    /// ≥ 10 weights per bin on average for the smallest compared layer (conv1: 23,296 values).
    public static let defaultBins = 100

    /// ‖a − b‖₂ accumulated in Double.
    public static func euclidean(_ a: [Float], _ b: [Float]) throws -> Double {
        guard a.count == b.count else {
            throw SeafoldError.mismatch(what: "Euclidean distance operands", expected: "\(a.count) values", found: "\(b.count) values")
        }
        var s = 0.0
        for i in a.indices {
            let d = Double(a[i]) - Double(b[i])
            s += d * d
        }
        return s.squareRoot()
    }

    /// KL(fine-tuned ‖ pretrained) of their histograms on shared edges, and their Euclidean distance.
    public static func compare(fineTuned: [Float], pretrained: [Float], bins: Int = defaultBins,
                               epsilon: Double = KLDivergence.defaultEpsilon,
                               epsilonOn: EpsilonPlacement = .probabilities) throws -> (kl: Double, euclidean: Double) {
        let ed = try euclidean(fineTuned, pretrained)
        let (p, q) = try WeightHistogram.pair(fineTuned, pretrained, bins: bins)
        return (try kl(p.counts, q.counts, epsilon: epsilon, epsilonOn: epsilonOn), ed)
    }

    /// KL of two count vectors with ε placed as `epsilonOn` says.
    public static func kl(_ p: [Int], _ q: [Int], epsilon: Double, epsilonOn: EpsilonPlacement) throws -> Double {
        switch epsilonOn {
        case .counts:
            return try KLDivergence.divergence(p: p.map(Double.init), q: q.map(Double.init), epsilon: epsilon)
        case .probabilities:
            let np = Double(p.reduce(0, +)), nq = Double(q.reduce(0, +))
            return try KLDivergence.divergence(p: p.map { np > 0 ? Double($0) / np : 0 }, q: q.map { nq > 0 ? Double($0) / nq : 0 },
                                               epsilon: epsilon)
        }
    }
}

import SeafoldCore

/// A histogram of parameter values normalised to probabilities, with `numpy.histogram`
/// semantics: `bins` equal-width bins between the edges `linspace(lo, hi, bins + 1)`
/// (edge i = lo + i·(hi−lo)/bins, the last edge exactly hi); each bin is half-open [e_i, e_{i+1})
/// except the last, which is closed [e_{bins−1}, e_bins]. A degenerate range lo == hi becomes
/// lo − 0.5 … hi + 0.5, as numpy does. Values outside the edges are not counted.
///
/// For the paper's comparison the two histograms share edges: lo and hi are the joint minimum
/// and maximum of the fine-tuned and the pretrained values (`pair`). Edges and bin arithmetic
/// are in Double (numpy with a float64 range); Float inputs convert to Double exactly.
public struct WeightHistogram: Equatable, Sendable {
    /// `bins + 1` increasing edges.
    public let edges: [Double]
    public let counts: [Int]
    /// counts / total (all zeros if no value fell inside the edges).
    public let probabilities: [Double]

    public var bins: Int { counts.count }

    /// Histogram of `values` over the given edges (use `edges(lo:hi:bins:)`).
    public init(_ values: [Float], edges: [Double]) throws {
        guard edges.count >= 2 else {
            throw SeafoldError.badInput(path: "WeightHistogram", reason: "need at least 2 edges (1 bin), got \(edges.count)")
        }
        guard edges.allSatisfy({ $0.isFinite }), zip(edges, edges.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw SeafoldError.badInput(path: "WeightHistogram", reason: "edges must be finite and strictly increasing")
        }
        let bins = edges.count - 1
        var counts = [Int](repeating: 0, count: bins)
        var total = 0
        for v in values {
            guard let i = WeightHistogram.binIndex(Double(v), edges: edges) else { continue }
            counts[i] += 1
            total += 1
        }
        self.edges = edges
        self.counts = counts
        probabilities = counts.map { total > 0 ? Double($0) / Double(total) : 0 }
    }

    /// The bin of `x` on valid `edges` (numpy's uniform-bin index computation, then the
    /// correction against the edges), or nil outside them.
    @inline(__always)
    public static func binIndex(_ x: Double, edges: [Double]) -> Int? {
        let bins = edges.count - 1
        let lo = edges[0], hi = edges[bins]
        guard x >= lo && x <= hi else { return nil }
        var i = Int((x - lo) / (hi - lo) * Double(bins))
        if i >= bins { i = bins - 1 }
        if x < edges[i] { i -= 1 }
        if i < bins - 1 && x >= edges[i + 1] { i += 1 }
        return i
    }

    /// numpy's edges for the range lo…hi (widened by ±0.5 when lo == hi).
    public static func edges(lo: Double, hi: Double, bins: Int) throws -> [Double] {
        guard bins >= 1 else {
            throw SeafoldError.config(key: "divergence.bins", reason: "the number of bins must be at least 1 (got \(bins))")
        }
        guard lo.isFinite, hi.isFinite, lo <= hi else {
            throw SeafoldError.badInput(path: "WeightHistogram", reason: "range \(lo)…\(hi) is not finite and increasing (NaN or infinite weights?)")
        }
        var first = lo, last = hi
        if first == last { first -= 0.5; last += 0.5 }
        let step = (last - first) / Double(bins)
        var e = (0...bins).map { first + Double($0) * step }
        e[bins] = last
        return e
    }

    /// Histograms of two arrays on shared edges spanning their joint minimum…maximum.
    public static func pair(_ a: [Float], _ b: [Float], bins: Int) throws -> (WeightHistogram, WeightHistogram) {
        let e = try jointEdges(a, b, bins: bins)
        return (try WeightHistogram(a, edges: e), try WeightHistogram(b, edges: e))
    }

    /// The shared edges of `pair`: the joint minimum…maximum of both arrays.
    public static func jointEdges(_ a: [Float], _ b: [Float], bins: Int) throws -> [Double] {
        guard !a.isEmpty, !b.isEmpty else {
            throw SeafoldError.badInput(path: "WeightHistogram", reason: "cannot histogram an empty parameter array")
        }
        var lo = Double.infinity, hi = -Double.infinity
        for v in a { lo = min(lo, Double(v)); hi = max(hi, Double(v)) }
        for v in b { lo = min(lo, Double(v)); hi = max(hi, Double(v)) }
        if (a + b).contains(where: { $0.isNaN }) {
            throw SeafoldError.badInput(path: "WeightHistogram", reason: "parameters contain NaN")
        }
        return try edges(lo: lo, hi: hi, bins: bins)
    }
}

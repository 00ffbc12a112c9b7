import Foundation
import Pipeline
import SeafoldCore

/// Holm–Bonferroni step-down adjusted p-values (Holm 1979; `statsmodels` `multipletests(method=
/// "holm")`): sort ascending, p̃_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j)), back in input order.
/// Controls the family-wise error rate under any dependence between the tests.
public enum Holm {
    public static func adjust(_ p: [Double]) -> [Double] {
        let m = p.count
        let order = p.indices.sorted { (p[$0], $0) < (p[$1], $1) }
        var out = [Double](repeating: 1, count: m)
        var running = 0.0
        for (rank, i) in order.enumerated() {
            running = max(running, min(1, Double(m - rank) * p[i]))
            out[i] = running
        }
        return out
    }
}

/// Upper tail of the binomial distribution, P(X ≥ k) for X ~ Binomial(n, p)
/// (`scipy.stats.binom.sf(k − 1, n, p)`), summed exactly term by term.
public enum BinomialTail {
    public static func atLeast(_ k: Int, n: Int, p: Double) -> Double {
        guard k > 0 else { return 1 }
        guard k <= n else { return 0 }
        var s = 0.0
        for j in k...n {
            let lnC = lgamma(Double(n + 1)) - lgamma(Double(j + 1)) - lgamma(Double(n - j + 1))
            s += exp(lnC + Double(j) * log(p) + Double(n - j) * log1p(-p))
        }
        return min(1, s)
    }
}

/// The conventions behind Table 3's numbers, read from the divergence results.
public struct DivergenceConventions: Codable, Equatable, Sendable {
    public var bins: [Int]
    public var epsilon: [Double]
    /// "probabilities" or "counts" (results without the field used "probabilities").
    public var epsilonOn: [String]
    public var includeBiases: [Bool]
    /// Swap-test draws per layer and fold (0 = the test was off).
    public var permutations: [Int]

    public init(_ results: [DivergenceResult]) {
        func distinct<T: Hashable & Comparable>(_ f: (DivergenceResult) -> T) -> [T] { Array(Set(results.map(f))).sorted() }
        bins = distinct(\.bins)
        epsilon = distinct(\.epsilon)
        epsilonOn = distinct { $0.epsilonOn ?? "probabilities" }
        includeBiases = Array(Set(results.map(\.includeBiases))).sorted { !$0 && $1 }
        permutations = distinct { $0.layers.map { $0.nullKL?.count ?? 0 }.max() ?? 0 }
    }

    /// One sentence for Table 3's caption (empty when there is no divergence result).
    public var caption: String {
        guard !bins.isEmpty else { return "" }
        func list<T>(_ v: [T], _ f: (T) -> String) -> String { v.map(f).joined(separator: " / ") + (v.count > 1 ? " (differs between folds)" : "") }
        let what = list(includeBiases) { $0 ? "weights and biases" : "weights only (no biases)" }
        let eps = list(epsilon) { "\($0)" }
        let on = list(epsilonOn) { $0 == "counts" ? "each bin's count" : "each bin's probability" }
        return "Histograms of the \(what): \(list(bins) { "\($0)" }) equal-width bins over the joint min…max of FT and pretrained "
            + "values (numpy.histogram edges); ε = \(eps) added to \(on) of both histograms, then renormalised; natural log."
    }
}

/// Per-layer significance of the fine-tuned-vs-pretrained change in one column.
///
/// The statistic is the mean over folds of KL(FT_f‖pretrained); its null distribution comes
/// from the swap test (`WeightStats.SwapNull`) run independently in every fold, draw b of the
/// null being the mean over folds of each fold's draw b. Monte Carlo p = (1 + #{T_b ≥ T})/(B + 1)
/// (Davison & Hinkley 1997, §4.2; exact-size under H0), Holm-adjusted over the column's layers.
public struct LayerSignificance: Codable, Equatable, Sendable {
    public var column: String
    public var layer: String
    /// Folds (0-based) whose result has null draws.
    public var folds: [Int]
    public var meanKL: Double?
    /// Mean of the fold-averaged null draws: the histogram-noise floor of KL at this layer's size.
    public var nullMeanKL: Double?
    public var draws: Int
    public var p: Double?
    public var pHolm: Double?
    /// Folds whose own swap-test p is ≤ 0.05 (the fold-level replication count).
    public var foldsSignificant: Int
    /// Mean over folds of ED/√(number of values): the root-mean-square change of one weight.
    public var rmsChange: Double?
    public var note: String?
}

/// "The first convolution changes most": in how many folds conv1 has the largest change.
///
/// H0: within a fold the L layers are exchangeable with respect to the measure (each is the
/// largest with probability 1/L), independently across folds. The count K of folds where conv1
/// is largest is then Binomial(n, 1/L); p = P(K ≥ k), which is (1/L)^n when conv1 is largest in
/// all n folds. Ties for the largest value do not count as largest.
public struct LargestLayerTest: Codable, Equatable, Sendable {
    public var column: String
    public var layer: String
    /// "kl" (the paper's measure) or "rms" (ED/√values, size-normalised).
    public var measure: String
    /// conv1's rank per fold (1 = largest), in fold order.
    public var ranks: [Int]
    public var layers: Int
    public var largestIn: Int
    public var p: Double?
}

/// Everything the report says about the significance of the weight changes.
public struct WeightSignificance: Codable, Equatable, Sendable {
    public var conventions: DivergenceConventions
    public var layers: [LayerSignificance]
    public var largest: [LargestLayerTest]

    public static let testedLayer = "conv1"

    public init(_ results: RunResults, columns: [String], layerOrder: [String]) {
        conventions = DivergenceConventions(results.divergences)
        var rows: [LayerSignificance] = []
        var tests: [LargestLayerTest] = []
        for column in columns {
            let ds = results.divergences.filter { $0.shard.column == column }.sorted { $0.shard.fold < $1.shard.fold }
            var colRows: [LayerSignificance] = []
            for layer in layerOrder {
                let present = ds.compactMap { d in d.layers.first { $0.layer == layer }.map { (d.shard.fold, $0) } }
                guard !present.isEmpty else { continue }
                colRows.append(WeightSignificance.layerRow(column: column, layer: layer, present))
            }
            let adjusted = Holm.adjust(colRows.compactMap(\.p))
            var k = 0
            for i in colRows.indices where colRows[i].p != nil { colRows[i].pHolm = adjusted[k]; k += 1 }
            rows += colRows
            for measure in ["kl", "rms"] {
                if let t = WeightSignificance.largestTest(column: column, measure: measure, ds, layerOrder: layerOrder) { tests.append(t) }
            }
        }
        layers = rows
        largest = tests
    }

    static func layerRow(column: String, layer: String, _ present: [(Int, LayerDivergenceRow)]) -> LayerSignificance {
        let mean = present.map(\.1.kl).reduce(0, +) / Double(present.count)
        let rms = present.allSatisfy { ($0.1.count ?? 0) > 0 }
            ? present.map { $0.1.euclidean / Double($0.1.count!).squareRoot() }.reduce(0, +) / Double(present.count) : nil
        var row = LayerSignificance(column: column, layer: layer, folds: [], meanKL: mean, nullMeanKL: nil, draws: 0, p: nil,
                                    pHolm: nil, foldsSignificant: 0, rmsChange: rms, note: nil)
        let withNull = present.filter { ($0.1.nullKL?.isEmpty == false) }
        let sizes = Set(withNull.map { $0.1.nullKL!.count })
        guard withNull.count == present.count, sizes.count == 1, let b = sizes.first else {
            row.note = withNull.isEmpty ? "no swap-test draws (divergence.permutations = 0, or results from an older version)"
                : "folds have different numbers of swap-test draws; rerun the divergence tasks with one setting"
            return row
        }
        row.folds = present.map(\.0)
        row.draws = b
        let n = Double(present.count)
        var nullMeans = [Double](repeating: 0, count: b)
        for (_, r) in present { for j in 0..<b { nullMeans[j] += r.nullKL![j] } }
        for j in 0..<b { nullMeans[j] /= n }
        row.nullMeanKL = nullMeans.reduce(0, +) / Double(b)
        row.p = monteCarloP(observed: mean, null: nullMeans)
        row.foldsSignificant = present.filter { monteCarloP(observed: $0.1.kl, null: $0.1.nullKL!) <= 0.05 }.count
        return row
    }

    /// (1 + #{null ≥ observed}) / (B + 1); a null value equal to the observed one up to
    /// rounding counts as reaching it (the conservative side).
    public static func monteCarloP(observed: Double, null: [Double]) -> Double {
        let tol = 1e-12 * max(1, abs(observed))
        let reach = null.filter { $0 >= observed - tol }.count
        return Double(1 + reach) / Double(null.count + 1)
    }

    static func largestTest(column: String, measure: String, _ ds: [DivergenceResult], layerOrder: [String]) -> LargestLayerTest? {
        var ranks: [Int] = []
        var layerCount = 0
        for d in ds {
            let values: [(String, Double)] = d.layers.compactMap { r in
                if measure == "kl" { return (r.layer, r.kl) }
                guard let c = r.count, c > 0 else { return nil }
                return (r.layer, r.euclidean / Double(c).squareRoot())
            }
            guard values.count >= 2, let mine = values.first(where: { $0.0 == testedLayer })?.1 else { continue }
            if layerCount == 0 { layerCount = values.count }
            guard values.count == layerCount else { continue }
            // Ties rank conv1 below the layer it ties with (a tie is not "changes most").
            ranks.append(1 + values.filter { $0.0 != testedLayer && $0.1 >= mine }.count)
        }
        guard !ranks.isEmpty else { return nil }
        let k = ranks.filter { $0 == 1 }.count
        return LargestLayerTest(column: column, layer: testedLayer, measure: measure, ranks: ranks, layers: layerCount, largestIn: k,
                                p: BinomialTail.atLeast(k, n: ranks.count, p: 1 / Double(layerCount)))
    }
}

/// The significance tables as `Grid`s and CSV.
public enum WeightSignificanceTables {
    public static let caveat = "Swap test per layer: H0 = fine-tuning left the layer's weight distribution unchanged "
        + "(each weight's FT and pretrained values exchangeable); statistic = mean over folds of KL(FT||pretrained); "
        + "null = the same statistic after swapping each weight's two values with probability 1/2, independently in every fold; "
        + "Monte Carlo p = (1 + #null ≥ observed)/(draws + 1), Holm-adjusted over the layers of each column. "
        + "A small p says the change exceeds the histogram noise of a layer that size; with tens of thousands of weights "
        + "almost any training does, so it does not say the change is large. Whether a layer changes reliably across "
        + "training runs is a question about the folds, the unit of replication: 'folds p ≤ 0.05' counts them; with "
        + "3 folds a test that treats the fold as the unit (e.g. a sign test) cannot go below p = 1/8, so no such claim is "
        + "possible without more folds or repeats (see docs/STATISTICS.md)."

    public static func layers(_ s: WeightSignificance) -> Grid {
        func item(_ t: String, note: String? = nil) -> Grid.Item { Grid.Item(text: t, bold: false, note: note, isLabel: false) }
        let rows: [[Grid.Item]] = s.layers.map { r in
            [Grid.label(r.column), Grid.label(NumberFormat.layerLabel(r.layer)),
             item(r.meanKL.map { NumberFormat.fixed($0, 4) } ?? NumberFormat.dash),
             item(r.nullMeanKL.map { NumberFormat.fixed($0, 4) } ?? NumberFormat.dash, note: r.note),
             item(r.p.map(NumberFormat.pValue) ?? NumberFormat.dash, note: r.note),
             item(r.pHolm.map(NumberFormat.pValue) ?? NumberFormat.dash, note: r.note),
             item(r.p == nil ? NumberFormat.dash : "\(r.foldsSignificant) of \(r.folds.count)"),
             item(r.rmsChange.map { String(format: "%.3e", $0) } ?? NumberFormat.dash)]
        }
        let draws = Set(s.layers.map(\.draws)).filter { $0 > 0 }.sorted().map(String.init).joined(separator: "/")
        let names = ["Column", "Layer", "mean KL", "null mean KL", "p (swap test)", "p (Holm)", "folds p ≤ 0.05", "RMS change"]
        return Grid(id: "weightsig",
                    title: "Significance of the weight change per layer (FT vs pretrained; swap test, \(draws.isEmpty ? "no" : draws) draws, Holm over layers)",
                    notes: [caveat, "RMS change = D_ED / √(number of values): the typical change of one weight, comparable across layers."],
                    header: [names.map { Grid.Header(text: $0, span: 1) }],
                    sections: [Grid.Section(title: nil, rows: rows)],
                    gaps: s.layers.compactMap { r in r.note.map { "\(r.column) \(r.layer): \($0)" } })
    }

    public static func largest(_ s: WeightSignificance) -> Grid {
        func item(_ t: String) -> Grid.Item { Grid.Item(text: t, bold: false, note: nil, isLabel: false) }
        let rows: [[Grid.Item]] = s.largest.map { t in
            [Grid.label(t.column), Grid.label(t.measure == "kl" ? "KL" : "RMS change"),
             item(t.ranks.map(String.init).joined(separator: ", ")),
             item("\(t.largestIn) of \(t.ranks.count)"),
             item(t.p.map(NumberFormat.pValue) ?? NumberFormat.dash)]
        }
        let names = ["Column", "Measure", "conv1 rank per fold", "largest in", "p"]
        return Grid(id: "conv1", title: "Does the first convolution change most? Rank of conv1 among the compared layers per fold",
                    notes: ["H0: within a fold every one of the L layers is equally likely to change most, independently across folds; "
                        + "p = P(Binomial(folds, 1/L) ≥ largest in), (1/L)^folds when conv1 is largest in every fold. The folds share "
                        + "training data and the pretrained weights, so independence is an approximation and the p-value optimistic. "
                        + "KL favours small layers (a higher histogram-noise floor), so the RMS change is shown beside it."],
                    header: [names.map { Grid.Header(text: $0, span: 1) }],
                    sections: [Grid.Section(title: nil, rows: rows)], gaps: [])
    }

    public static func csv(_ s: WeightSignificance, aggregate a: Aggregate) -> String {
        func opt(_ x: Double?) -> String { x.map { "\($0)" } ?? "" }
        var out = "dataset,variant,layer,folds,mean_kl,null_mean_kl,draws,p,p_holm,folds_p_le_0.05,rms_change,note\n"
        for r in s.layers {
            let (d, v) = a.split(r.column)
            let fields = [d, v, r.layer, "\(r.folds.count)", opt(r.meanKL), opt(r.nullMeanKL), "\(r.draws)", opt(r.p), opt(r.pHolm),
                          "\(r.foldsSignificant)", opt(r.rmsChange), r.note ?? ""]
            out += fields.map(CSVTables.quote).joined(separator: ",") + "\n"
        }
        return out
    }
}

/// Where the significance tables go: `tables/weightsig.{md,csv,tex}` and `tables/conv1.md`,
/// a section of `summary.md` and of `index.html` (after the weight-change charts).
enum WeightSignificanceFiles {
    static func write(_ a: Aggregate, to tablesDir: URL) throws -> [URL] {
        let s = a.weightSignificance
        let files: [(String, String)] = [
            ("weightsig.md", MarkdownTables.grid(WeightSignificanceTables.layers(s))),
            ("weightsig.csv", WeightSignificanceTables.csv(s, aggregate: a)),
            ("weightsig.tex", LaTeXTables.grid(WeightSignificanceTables.layers(s))),
            ("conv1.md", MarkdownTables.grid(WeightSignificanceTables.largest(s))),
        ]
        return try files.map { name, text in
            let url = tablesDir.appendingPathComponent(name)
            do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
                throw SeafoldError.io(path: url.path, reason: "cannot write: \(error.localizedDescription)")
            }
            return url
        }
    }

    static func markdown(_ a: Aggregate) -> String {
        guard !a.weightSignificance.layers.isEmpty else { return "" }
        return MarkdownTables.grid(WeightSignificanceTables.layers(a.weightSignificance)) + "\n"
            + MarkdownTables.grid(WeightSignificanceTables.largest(a.weightSignificance)) + "\n"
    }

    static func html(_ a: Aggregate) -> String {
        guard !a.weightSignificance.layers.isEmpty else { return "" }
        return "<section id=\"weight-significance\"><h2>Significance of the weight changes</h2>\n"
            + HTML.table(WeightSignificanceTables.layers(a.weightSignificance))
            + HTML.table(WeightSignificanceTables.largest(a.weightSignificance)) + "</section>\n"
    }
}

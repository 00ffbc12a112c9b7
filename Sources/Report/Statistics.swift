import Foundation

/// Mean and standard deviation of a sample, numpy semantics: `np.mean(x)` and
/// `np.std(x, ddof=ddof)` = sqrt(Σ(x − mean)² / (n − ddof)). The std is nil (undefined) when
/// n − ddof ≤ 0, where numpy would return nan with a warning.
public struct MeanStd: Codable, Equatable, Sendable {
    public var n: Int
    public var ddof: Int
    public var mean: Double
    public var std: Double?

    /// nil for an empty sample (a gap, never a zero).
    public init?(_ values: [Double], ddof: Int) {
        guard !values.isEmpty else { return nil }
        n = values.count
        self.ddof = ddof
        // Two-pass: mean first, then squared deviations, as numpy does (no catastrophic cancellation).
        mean = values.reduce(0, +) / Double(values.count)
        let denominator = values.count - ddof
        if denominator > 0 {
            let m = mean
            let ss = values.reduce(0) { $0 + ($1 - m) * ($1 - m) }
            std = (ss / Double(denominator)).squareRoot()
        } else {
            std = nil
        }
    }
}

/// Student's t distribution via the regularised incomplete beta function:
/// for t ≥ 0, P(T ≤ t) = 1 − ½·I_{df/(df+t²)}(df/2, ½). Matches scipy.stats.t.cdf.
public enum StudentT {
    /// Cumulative distribution function P(T ≤ t) for `df` > 0 degrees of freedom.
    public static func cdf(_ t: Double, df: Double) -> Double {
        guard df > 0, !t.isNaN else { return .nan }
        if t.isInfinite { return t > 0 ? 1 : 0 }
        let tail = 0.5 * IncompleteBeta.regularized(x: df / (df + t * t), a: df / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// Two-sided p-value P(|T| ≥ |t|) = I_{df/(df+t²)}(df/2, ½) (computed directly, so tiny
    /// p-values keep their precision instead of being 1 − 0.999…).
    public static func twoSidedP(_ t: Double, df: Double) -> Double {
        guard df > 0, !t.isNaN else { return .nan }
        if t.isInfinite { return 0 }
        return min(1, IncompleteBeta.regularized(x: df / (df + t * t), a: df / 2, b: 0.5))
    }

    /// The two-sided critical value t* with P(|T| ≥ t*) = alpha (bisection; used to tell the
    /// reader how large a t a given number of folds needs).
    public static func criticalValue(alpha: Double, df: Double) -> Double {
        var lo = 0.0, hi = 1.0
        while twoSidedP(hi, df: df) > alpha && hi < 1e12 { hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if twoSidedP(mid, df: df) > alpha { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }
}

/// The regularised incomplete beta function I_x(a, b), by the continued fraction of
/// Abramowitz & Stegun 26.5.8 evaluated with the modified Lentz method, using the symmetry
/// I_x(a,b) = 1 − I_{1−x}(b,a) where the fraction converges slowly.
public enum IncompleteBeta {
    public static func regularized(x: Double, a: Double, b: Double) -> Double {
        guard a > 0, b > 0, !x.isNaN else { return .nan }
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        // ln of x^a (1−x)^b / B(a,b)
        let lnFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        if x < (a + 1) / (a + b + 2) {
            return exp(lnFront) * continuedFraction(x: x, a: a, b: b) / a
        }
        return 1 - exp(lnFront) * continuedFraction(x: 1 - x, a: b, b: a) / b
    }

    private static func continuedFraction(x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300, eps = 1e-16
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...10_000 {
            let md = Double(m)
            // even step: d_{2m} = m(b−m)x / ((a+2m−1)(a+2m))
            var num = md * (b - md) * x / ((a + 2 * md - 1) * (a + 2 * md))
            d = 1 + num * d; if abs(d) < tiny { d = tiny }
            c = 1 + num / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            // odd step: d_{2m+1} = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1))
            num = -(a + md) * (a + b + md) * x / ((a + 2 * md) * (a + 2 * md + 1))
            d = 1 + num * d; if abs(d) < tiny { d = tiny }
            c = 1 + num / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < eps { break }
        }
        return h
    }
}

/// A paired Student t-test of FT against Base over folds (scipy.stats.ttest_rel semantics:
/// differences d = FT − Base, t = mean(d) / (sd(d, ddof=1)/√n), df = n − 1, two-sided p),
/// plus the sign count (FT > Base in k of n folds).
public struct PairedTest: Codable, Equatable, Sendable {
    /// Folds (0-based) present for both models, in order.
    public var folds: [Int]
    public var n: Int
    public var meanDifference: Double?
    /// nil when n < 2 or all differences are equal (t undefined).
    public var t: Double?
    public var df: Int?
    public var p: Double?
    /// Folds where FT > Base, FT < Base, and ties.
    public var ftBetter: Int
    public var baseBetter: Int
    public var ties: Int
    /// Why no t statistic was computed, if none was.
    public var note: String?

    public init(fineTuned: [Int: Double], base: [Int: Double]) {
        folds = fineTuned.keys.filter { base[$0] != nil }.sorted()
        n = folds.count
        let d = folds.map { fineTuned[$0]! - base[$0]! }
        ftBetter = d.filter { $0 > 0 }.count
        baseBetter = d.filter { $0 < 0 }.count
        ties = d.filter { $0 == 0 }.count
        meanDifference = d.isEmpty ? nil : d.reduce(0, +) / Double(d.count)
        t = nil; df = nil; p = nil; note = nil
        guard n >= 2, let md = meanDifference, let sd = MeanStd(d, ddof: 1)?.std else {
            note = n == 0 ? "no fold has both FT and Base" : "a paired t-test needs at least 2 folds with both FT and Base (have \(n))"
            return
        }
        // Differences equal up to rounding (accuracies are ratios of counts, so 0.85−0.70 and
        // 0.75−0.60 differ in the last bit) would give an absurd t of ~1e15: treat as equal.
        guard sd > 1e-12 * max(1, abs(md)) else {
            note = "all \(n) differences are equal (\(md == 0 ? "zero" : "constant")); t is undefined"
            return
        }
        let tv = md / (sd / Double(n).squareRoot())
        t = tv
        df = n - 1
        p = StudentT.twoSidedP(tv, df: Double(n - 1))
    }
}

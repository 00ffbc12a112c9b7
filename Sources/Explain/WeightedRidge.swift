import SeafoldCore

/// Weighted ridge regression with an unpenalised intercept, as scikit-learn's
/// `Ridge(alpha, fit_intercept=True).fit(X, y, sample_weight=w)` (cholesky solver).
///
/// X and y are centred by their weighted means x̄_w, ȳ_w; then (XcᵀWXc + αI)β = XcᵀW yc is
/// solved by Cholesky in Double; intercept = ȳ_w − x̄_wᵀβ. With α = 0 and a singular system
/// (scikit-learn falls back to a least-squares solver) seafold uses pivoted elimination that
/// sets coefficients of dependent columns to 0 — the fitted values are the same.
/// `score` is scikit-learn's weighted R²: 1 − Σw(y−ŷ)² / Σw(y−ȳ_w)².
public struct WeightedRidge: Sendable {
    public let coefficients: [Double]
    public let intercept: Double

    public func predict(_ row: [Double]) -> Double {
        var s = intercept
        for (a, b) in zip(coefficients, row) { s += a * b }
        return s
    }

    /// A design shared by several targets: centred X and the factorised normal matrix.
    /// LIME fits one model per explained label on the same X and weights, so the O(n·p²)
    /// work is done once.
    struct Design {
        let rows: Int
        let cols: Int
        let x: [Double]          // row-major, uncentred
        let weights: [Double]
        let xMean: [Double]
        let alpha: Double
        let gram: [Double]       // XcᵀWXc + αI (p×p)
        let sumW: Double

        init(x: [Double], rows: Int, cols: Int, weights: [Double], alpha: Double) {
            self.rows = rows; self.cols = cols; self.x = x; self.weights = weights; self.alpha = alpha
            let sw = weights.reduce(0, +)
            sumW = sw
            var mean = [Double](repeating: 0, count: cols)
            for i in 0..<rows where weights[i] != 0 {
                let wi = weights[i]
                for j in 0..<cols { mean[j] += wi * x[i * cols + j] }
            }
            if sw > 0 { for j in 0..<cols { mean[j] /= sw } }
            xMean = mean
            var g = [Double](repeating: 0, count: cols * cols)
            var xc = [Double](repeating: 0, count: cols)
            for i in 0..<rows where weights[i] != 0 {
                let wi = weights[i]
                for j in 0..<cols { xc[j] = x[i * cols + j] - mean[j] }
                for a in 0..<cols {
                    let wa = wi * xc[a]
                    if wa == 0 { continue }
                    for b in a..<cols { g[a * cols + b] += wa * xc[b] }
                }
            }
            for a in 0..<cols {
                g[a * cols + a] += alpha
                for b in 0..<a { g[a * cols + b] = g[b * cols + a] }
            }
            gram = g
        }

        func fit(_ y: [Double]) -> WeightedRidge {
            var yMean = 0.0
            for i in 0..<rows { yMean += weights[i] * y[i] }
            if sumW > 0 { yMean /= sumW }
            var rhs = [Double](repeating: 0, count: cols)
            for i in 0..<rows where weights[i] != 0 {
                let wy = weights[i] * (y[i] - yMean)
                for j in 0..<cols { rhs[j] += wy * (x[i * cols + j] - xMean[j]) }
            }
            let beta = SymmetricSolver.solve(gram, rhs, n: cols)
            var b0 = yMean
            for j in 0..<cols { b0 -= xMean[j] * beta[j] }
            return WeightedRidge(coefficients: beta, intercept: b0)
        }

        func score(_ model: WeightedRidge, _ y: [Double]) -> Double {
            var yMean = 0.0
            for i in 0..<rows { yMean += weights[i] * y[i] }
            if sumW > 0 { yMean /= sumW }
            var ssRes = 0.0, ssTot = 0.0
            for i in 0..<rows {
                var pred = model.intercept
                for j in 0..<cols { pred += model.coefficients[j] * x[i * cols + j] }
                ssRes += weights[i] * (y[i] - pred) * (y[i] - pred)
                ssTot += weights[i] * (y[i] - yMean) * (y[i] - yMean)
            }
            // scikit-learn's r2_score: a constant target scores 1 if predicted exactly, else 0.
            if ssTot == 0 { return ssRes == 0 ? 1 : 0 }
            return 1 - ssRes / ssTot
        }
    }

    /// Fits one target. `x` is row-major rows × cols.
    public static func fit(x: [Double], rows: Int, cols: Int, y: [Double], weights: [Double], alpha: Double) throws -> WeightedRidge {
        guard x.count == rows * cols, y.count == rows, weights.count == rows else {
            throw SeafoldError.mismatch(what: "ridge inputs (rows \(rows), cols \(cols))",
                                        expected: "x \(rows * cols), y \(rows), weights \(rows)",
                                        found: "x \(x.count), y \(y.count), weights \(weights.count)")
        }
        return Design(x: x, rows: rows, cols: cols, weights: weights, alpha: alpha).fit(y)
    }

    /// Weighted R² of `model` on (x, y) with sample weights (scikit-learn `score`).
    public static func score(_ model: WeightedRidge, x: [Double], rows: Int, cols: Int, y: [Double], weights: [Double]) -> Double {
        Design(x: x, rows: rows, cols: cols, weights: weights, alpha: 0).score(model, y)
    }
}

/// Solves a symmetric positive (semi-)definite system: Cholesky, or pivoted elimination that
/// zeroes the coefficients of numerically dependent columns when Cholesky fails.
enum SymmetricSolver {
    static func solve(_ a: [Double], _ b: [Double], n: Int) -> [Double] {
        if n == 0 { return [] }
        if let x = cholesky(a, b, n: n) { return x }
        return eliminate(a, b, n: n)
    }

    static func cholesky(_ a: [Double], _ b: [Double], n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        var maxDiag = 0.0
        for i in 0..<n { maxDiag = max(maxDiag, abs(a[i * n + i])) }
        let tol = max(maxDiag, 1e-300) * 1e-12
        for i in 0..<n {
            for j in 0...i {
                var s = a[i * n + j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                if i == j {
                    if s <= tol { return nil }
                    l[i * n + i] = s.squareRoot()
                } else {
                    l[i * n + j] = s / l[j * n + j]
                }
            }
        }
        var y = b
        for i in 0..<n {
            var s = y[i]
            for k in 0..<i { s -= l[i * n + k] * y[k] }
            y[i] = s / l[i * n + i]
        }
        var x = y
        for i in stride(from: n - 1, through: 0, by: -1) {
            var s = x[i]
            for k in (i + 1)..<n { s -= l[k * n + i] * x[k] }
            x[i] = s / l[i * n + i]
        }
        return x
    }

    static func eliminate(_ a0: [Double], _ b0: [Double], n: Int) -> [Double] {
        var a = a0, b = b0
        var maxAbs = 0.0
        for v in a { maxAbs = max(maxAbs, abs(v)) }
        let tol = max(maxAbs, 1e-300) * 1e-10
        var pivotCol = [Int](repeating: -1, count: n)   // row i's pivot column
        var row = 0
        for col in 0..<n where row < n {
            var best = row
            for r in row..<n where abs(a[r * n + col]) > abs(a[best * n + col]) { best = r }
            if abs(a[best * n + col]) <= tol { continue }
            if best != row {
                for k in 0..<n { a.swapAt(best * n + k, row * n + k) }
                b.swapAt(best, row)
            }
            for r in 0..<n where r != row {
                let f = a[r * n + col] / a[row * n + col]
                if f == 0 { continue }
                for k in col..<n { a[r * n + k] -= f * a[row * n + k] }
                b[r] -= f * b[row]
            }
            pivotCol[row] = col
            row += 1
        }
        var x = [Double](repeating: 0, count: n)
        for r in 0..<n where pivotCol[r] >= 0 {
            x[pivotCol[r]] = b[r] / a[r * n + pivotCol[r]]
        }
        return x
    }
}

/// libsvm's SMO solver for the C-SVC dual, written from the algorithm (Fan, Chen & Lin 2005;
/// Chang & Lin, "LIBSVM: a library for support vector machines", §4):
///
///     min_α ½ αᵀQα − eᵀα   subject to  0 ≤ α_t ≤ C,  yᵀα = 0,   Q_ts = y_t y_s K_ts.
///
/// Working-set selection is libsvm's WSS3 (second-order): i maximises −y_t∇f_t over I_up,
/// j minimises −(b_ij)²/a_ij over t ∈ I_low with −y_t∇f_t < −y_i∇f_i (a_ij ≤ 0 replaced by
/// τ = 1e-12); ties take the later index, as libsvm's `>=`/`<=` comparisons do. The two-variable
/// update with clipping, the stopping rule m(α) − M(α) < tolerance, the iteration cap
/// max(10⁷, 100·l) and the bias rule (ρ = mean of y_t∇f_t over free vectors, else the midpoint
/// of the bounds) follow libsvm.
///
/// Deliberate difference: no shrinking (libsvm's default shrinks). Shrinking only skips
/// variables already at a bound; the solution satisfies the same stopping rule, so it agrees
/// with libsvm's to within the tolerance, not bit for bit. Kernel values are kept in Double
/// (libsvm caches Q rows in float).
public enum SMOSolver {
    public struct Solution: Sendable {
        /// Dual variables α_t ∈ [0, C], in the order of the input samples.
        public var alpha: [Double]
        /// libsvm's ρ: the decision value is Σ α_t y_t K(x_t, x) − ρ.
        public var rho: Double
        public var iterations: Int
        /// False when the iteration cap stopped the solver before the tolerance was met.
        public var converged: Bool
    }

    static let tau = 1e-12

    /// Solves the dual for `l` samples with labels `y` (each +1 or −1) and the row-major
    /// `l×l` kernel matrix `gram`. The caller guarantees sizes (checked by `LinearSVC`).
    public static func solve(gram: [Double], y: [Double], C: Double, tolerance: Double,
                             maxIterations: Int? = nil) -> Solution {
        let l = y.count
        var alpha = [Double](repeating: 0, count: l)
        var G = [Double](repeating: -1, count: l)  // ∇f(α) = Qα − e at α = 0
        let cap = maxIterations ?? max(10_000_000, l > Int(Int32.max) / 100 ? Int(Int32.max) : 100 * l)
        var iterations = 0
        var converged = false
        gram.withUnsafeBufferPointer { K in
            y.withUnsafeBufferPointer { y in
                alpha.withUnsafeMutableBufferPointer { a in
                    G.withUnsafeMutableBufferPointer { G in
                        @inline(__always) func isUpper(_ t: Int) -> Bool { a[t] >= C }
                        @inline(__always) func isLower(_ t: Int) -> Bool { a[t] <= 0 }
                        while iterations < cap {
                            // --- WSS3: select i.
                            var gmax = -Double.infinity, gmax2 = -Double.infinity
                            var iSel = -1, jSel = -1
                            var objDiffMin = Double.infinity
                            for t in 0..<l {
                                if y[t] > 0 {
                                    if !isUpper(t) && -G[t] >= gmax { gmax = -G[t]; iSel = t }
                                } else {
                                    if !isLower(t) && G[t] >= gmax { gmax = G[t]; iSel = t }
                                }
                            }
                            // --- select j (second-order gain); also collects M(α) as gmax2.
                            let Ki = iSel >= 0 ? iSel * l : 0
                            let Kii = iSel >= 0 ? K[Ki + iSel] : 0
                            for t in 0..<l {
                                if y[t] > 0 {
                                    if !isLower(t) {
                                        let gradDiff = gmax + G[t]
                                        if G[t] >= gmax2 { gmax2 = G[t] }
                                        if gradDiff > 0 && iSel >= 0 {
                                            // Q_ii + Q_tt − 2 y_i Q_it, with y_i Q_it = y_t K_it.
                                            let quad = Kii + K[t * l + t] - 2 * y[t] * K[Ki + t]
                                            let objDiff = -(gradDiff * gradDiff) / (quad > 0 ? quad : tau)
                                            if objDiff <= objDiffMin { jSel = t; objDiffMin = objDiff }
                                        }
                                    }
                                } else {
                                    if !isUpper(t) {
                                        let gradDiff = gmax - G[t]
                                        if -G[t] >= gmax2 { gmax2 = -G[t] }
                                        if gradDiff > 0 && iSel >= 0 {
                                            let quad = Kii + K[t * l + t] + 2 * y[t] * K[Ki + t]
                                            let objDiff = -(gradDiff * gradDiff) / (quad > 0 ? quad : tau)
                                            if objDiff <= objDiffMin { jSel = t; objDiffMin = objDiff }
                                        }
                                    }
                                }
                            }
                            if gmax + gmax2 < tolerance || jSel == -1 { converged = true; break }
                            iterations += 1
                            let i = iSel, j = jSel
                            let Kj = j * l
                            let Cij = C  // equal class weights: C_i = C_j = C
                            let Qij = y[i] * y[j] * K[Ki + j]
                            let oldAi = a[i], oldAj = a[j]
                            if y[i] != y[j] {
                                var quad = K[Ki + i] + K[Kj + j] + 2 * Qij
                                if quad <= 0 { quad = tau }
                                let delta = (-G[i] - G[j]) / quad
                                let diff = a[i] - a[j]
                                a[i] += delta; a[j] += delta
                                if diff > 0 {
                                    if a[j] < 0 { a[j] = 0; a[i] = diff }
                                } else {
                                    if a[i] < 0 { a[i] = 0; a[j] = -diff }
                                }
                                if diff > 0 /* C_i − C_j = 0 */ {
                                    if a[i] > Cij { a[i] = Cij; a[j] = Cij - diff }
                                } else {
                                    if a[j] > Cij { a[j] = Cij; a[i] = Cij + diff }
                                }
                            } else {
                                var quad = K[Ki + i] + K[Kj + j] - 2 * Qij
                                if quad <= 0 { quad = tau }
                                let delta = (G[i] - G[j]) / quad
                                let sum = a[i] + a[j]
                                a[i] -= delta; a[j] += delta
                                if sum > Cij {
                                    if a[i] > Cij { a[i] = Cij; a[j] = sum - Cij }
                                } else {
                                    if a[j] < 0 { a[j] = 0; a[i] = sum }
                                }
                                if sum > Cij {
                                    if a[j] > Cij { a[j] = Cij; a[i] = sum - Cij }
                                } else {
                                    if a[i] < 0 { a[i] = 0; a[j] = sum }
                                }
                            }
                            // --- gradient update: G_t += Q_ti Δα_i + Q_tj Δα_j.
                            let dAi = (a[i] - oldAi) * y[i], dAj = (a[j] - oldAj) * y[j]
                            for t in 0..<l {
                                G[t] += y[t] * (K[Ki + t] * dAi + K[Kj + t] * dAj)
                            }
                        }
                    }
                }
            }
        }
        return Solution(alpha: alpha, rho: rho(alpha: alpha, gradient: G, y: y, C: C),
                        iterations: iterations, converged: converged)
    }

    /// libsvm's `calculate_rho` for C-SVC.
    static func rho(alpha: [Double], gradient G: [Double], y: [Double], C: Double) -> Double {
        var ub = Double.infinity, lb = -Double.infinity, sumFree = 0.0, nFree = 0
        for t in 0..<alpha.count {
            let yG = y[t] * G[t]
            if alpha[t] >= C {
                if y[t] < 0 { ub = min(ub, yG) } else { lb = max(lb, yG) }
            } else if alpha[t] <= 0 {
                if y[t] > 0 { ub = min(ub, yG) } else { lb = max(lb, yG) }
            } else {
                nFree += 1; sumFree += yG
            }
        }
        return nFree > 0 ? sumFree / Double(nFree) : (ub + lb) / 2
    }
}

/// The matrices of Winograd minimal filtering F(m, r) by the Cook–Toom construction (Lavin &
/// Gray 2016, §4; the "modified" form with a point at infinity), in double precision.
///
/// With n = m + r − 1 and finite interpolation points a₀…a_{n−2}:
/// - Aᵀ (m×n): Aᵀ[i][j] = a_jⁱ; the infinity column is eᵢ for i = m − 1.
/// - G (n×r): G[j][k] = a_jᵏ / f_j with f_j = Π_{l≠j}(a_j − a_l); the infinity row is e_{r−1}.
/// - Bᵀ (n×n): row j holds the coefficients of Π_{l≠j}(x − a_l); the infinity row those of
///   Π_l (x − a_l).
/// Then the correlation y_i = Σ_k g_k d_{i+k} (what `nn.Conv2d` computes) is
/// y = Aᵀ[(G g) ⊙ (Bᵀ d)], the transpose of the polynomial product these points interpolate;
/// in 2-D, Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A.
struct WinogradMatrices {
    let m: Int, r: Int
    var n: Int { m + r - 1 }
    let points: [Double]
    let at: [Double], g: [Double], bt: [Double]

    /// The points, in order of use: small integers first, then ½ (for n = 7, the set
    /// {0, ±1, ±2, ½} gave the smallest float32 error of the sets tried).
    static let pointOrder: [Double] = [0, 1, -1, 2, -2, 0.5, -0.5]

    init(m: Int, r: Int) {
        precondition(m >= 1 && r >= 1 && m + r - 2 <= WinogradMatrices.pointOrder.count)
        self.m = m; self.r = r
        let n = m + r - 1
        let pts = Array(WinogradMatrices.pointOrder.prefix(n - 1))
        points = pts
        func power(_ a: Double, _ k: Int) -> Double { (0..<k).reduce(1.0) { acc, _ in acc * a } }
        /// Coefficients (ascending powers, length n) of Π over `roots` of (x − root).
        func polynomial(_ roots: [Double]) -> [Double] {
            var c = [Double](repeating: 0, count: n); c[0] = 1
            var degree = 0
            for root in roots {
                degree += 1
                for t in stride(from: degree, through: 1, by: -1) { c[t] = c[t - 1] - root * c[t] }
                c[0] = -root * c[0]
            }
            return c
        }
        var at = [Double](repeating: 0, count: m * n)
        var g = [Double](repeating: 0, count: n * r)
        var bt = [Double](repeating: 0, count: n * n)
        for (j, a) in pts.enumerated() {
            for i in 0..<m { at[i * n + j] = power(a, i) }
            let others = pts.enumerated().filter { $0.offset != j }.map(\.element)
            let f = others.reduce(1.0) { $0 * (a - $1) }
            for k in 0..<r { g[j * r + k] = power(a, k) / f }
            let c = polynomial(others)
            for t in 0..<n { bt[j * n + t] = c[t] }
        }
        at[(m - 1) * n + n - 1] = 1
        g[(n - 1) * r + r - 1] = 1
        let c = polynomial(pts)
        for t in 0..<n { bt[(n - 1) * n + t] = c[t] }
        self.at = at; self.g = g; self.bt = bt
    }
}

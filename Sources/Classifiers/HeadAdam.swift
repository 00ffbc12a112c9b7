import Foundation

/// torch.optim.Adam (single-tensor path, amsgrad off) for the FC head's two parameters:
/// g += weight_decay·p; m ← m + (1−β1)(g − m); v ← β2 v + (1−β2) g²;
/// p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps). Bias corrections are computed in
/// Double (Python floats in PyTorch), the tensor arithmetic in Float.
struct HeadAdam {
    var m: [[Float]]
    var v: [[Float]]
    var t = 0

    init(sizes: [Int]) {
        m = sizes.map { [Float](repeating: 0, count: $0) }
        v = m
    }

    /// Advances the step count; call once per optimiser step, before `update` of each parameter.
    mutating func beginStep() { t += 1 }

    /// Updates parameter number `k` in place from its gradient.
    mutating func update(_ k: Int, _ p: inout [Float], _ g: [Float], config c: LinearHead.Config) {
        let bc1 = 1 - pow(Double(c.beta1), Double(t))
        let bc2Sqrt = (1 - pow(Double(c.beta2), Double(t))).squareRoot()
        let stepSize = Float(Double(c.learningRate) / bc1)
        let bc2 = Float(bc2Sqrt)
        for i in 0..<g.count {
            var gi = g[i]
            if c.weightDecay != 0 { gi += c.weightDecay * p[i] }
            m[k][i] += (gi - m[k][i]) * (1 - c.beta1)
            v[k][i] = v[k][i] * c.beta2 + (1 - c.beta2) * gi * gi
            let denom = v[k][i].squareRoot() / bc2 + c.eps
            p[i] -= stepSize * m[k][i] / denom
        }
    }
}

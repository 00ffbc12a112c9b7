import Engine

/// torch.optim.Adam (single-tensor path, amsgrad off) for the FC head's two parameters: the
/// per-parameter state (exp_avg, exp_avg_sq, step count) around Engine's `AdamUpdate`, the
/// element update every Adam in seafold shares (bias corrections in Double, tensor arithmetic
/// in Float, PyTorch's order of operations).
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
        AdamUpdate.apply(p: &p, g: g, m: &m[k], v: &v[k], step: t, lr: c.learningRate, beta1: c.beta1, beta2: c.beta2,
                         eps: c.eps, weightDecay: c.weightDecay)
    }
}

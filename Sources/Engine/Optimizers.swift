import SeafoldCore
import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// An optimizer updating parameters from their gradients, with exportable state for checkpoints.
public protocol Optimizer: AnyObject {
    /// Applies one update to `params` (only those with `requiresGrad`).
    func step(_ params: [Parameter])
    /// The optimizer state as tensors keyed `<param key>.<buffer>` (for safetensors checkpoints).
    func state() -> [String: Tensor]
    /// Restores state exported by `state()`; errors name the key and shapes that do not fit.
    func restore(state: [String: Tensor]) throws
}

/// Adam with PyTorch semantics (`torch.optim.Adam`, amsgrad off, single-tensor CPU path), the
/// element update of `AdamUpdate`, with t counted per parameter.
///
/// One fused pass over all parameters at once (cut into fixed parts, run on
/// `ParallelConfig.threads`; the update is element-wise, so the cut cannot change a result).
/// A parameter whose gradient is deferred as low-rank factors (`LowRankGradient`, a Linear
/// weight at small batch) gets each gradient element computed on the fly in the same pass, so
/// its dense gradient is never written nor read: memory traffic 6 floats per element instead of
/// 7 here plus the 1 write of the gradient product. The element kernels are in C (`CKernels`,
/// AVX-512/AVX2/SSE2 picked at run time, no FMA contraction: every variant gives the same bytes).
public final class Adam: Optimizer {
    public var lr: Float, beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    private var m: [String: FloatBuffer] = [:], v: [String: FloatBuffer] = [:]
    private var sizes: [String: Int] = [:], steps: [String: Int] = [:]
    /// The per-step work list, kept so a step allocates nothing once warmed up.
    private var jobs: [AdamJob] = []

    public init(lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0) {
        self.lr = lr; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
    }

    /// Number of steps taken for the parameter `key` (0 if never updated).
    public func stepCount(_ key: String) -> Int { steps[key] ?? 0 }

    private func buffers(_ p: Parameter) -> (FloatBuffer, FloatBuffer) {
        if let mb = m[p.key], let vb = v[p.key], sizes[p.key] == p.count { return (mb, vb) }
        // New (or reshaped, e.g. a replaced output layer) parameter: fresh zero state.
        let mb = FloatBuffer(count: p.count), vb = FloatBuffer(count: p.count)
        m[p.key] = mb; v[p.key] = vb; sizes[p.key] = p.count; steps[p.key] = 0
        return (mb, vb)
    }

    /// Parts the whole update is cut into (a function of the total size only; more parts than
    /// threads so a thread slowed by the shared machine does not hold the others up).
    public static let maximumParts = 16
    public static let elementsPerPart = 1 << 17

    public func step(_ params: [Parameter]) {
        jobs.removeAll(keepingCapacity: true)
        var total = 0
        for p in params where p.requiresGrad {
            let (mb, vb) = buffers(p)
            let t = (steps[p.key] ?? 0) + 1
            steps[p.key] = t
            let k = AdamUpdate.scalars(step: t, lr: lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
            var job = AdamJob(start: total, count: p.count, pw: p.value.ptr, g: nil, mp: mb.ptr, vp: vb.ptr, scalars: k, lowRank: nil)
            if let d = p.deferredGradient { job.lowRank = d } else { job.g = p.grad.ptr }
            jobs.append(job)
            total += p.count
        }
        let parts = min(Adam.maximumParts, max(1, total / Adam.elementsPerPart))
        jobs.withUnsafeBufferPointer { js in
            parallelFor(parts) { part in
                let lo = Int((Int64(part) * Int64(total)) / Int64(parts))
                let hi = Int((Int64(part + 1) * Int64(total)) / Int64(parts))
                for j in js where j.start < hi && j.start + j.count > lo {
                    let a = max(lo, j.start) - j.start, b = min(hi, j.start + j.count) - j.start
                    var k = j.scalars
                    if let d = j.lowRank {
                        seafold_adam_lowrank(j.pw, j.mp, j.vp, d.a.ptr, d.b.ptr, d.rows, d.cols, d.batch, a, b, &k)
                    } else {
                        seafold_adam_dense(j.pw, j.g!, j.mp, j.vp, a, b, &k)
                    }
                }
            }
        }
    }

    public func state() -> [String: Tensor] {
        var d: [String: Tensor] = [:]
        for (k, n) in sizes {
            guard let mb = m[k], let vb = v[k] else { continue }
            d[k + ".exp_avg"] = Tensor(shape: [n], data: mb.array(n))
            d[k + ".exp_avg_sq"] = Tensor(shape: [n], data: vb.array(n))
            d[k + ".step"] = Tensor(shape: [1], data: [Float(steps[k] ?? 0)])
        }
        return d
    }

    public func restore(state: [String: Tensor]) throws {
        var nm: [String: FloatBuffer] = [:], nv: [String: FloatBuffer] = [:]
        var ns: [String: Int] = [:], nt: [String: Int] = [:]
        for key in state.keys where key.hasSuffix(".step") {
            let base = String(key.dropLast(".step".count))
            guard let mt = state[base + ".exp_avg"], let vt = state[base + ".exp_avg_sq"] else {
                throw SeafoldError.mismatch(what: "Adam state for '\(base)'", expected: "exp_avg and exp_avg_sq", found: "only some of them")
            }
            guard mt.count == vt.count else {
                throw SeafoldError.mismatch(what: "Adam state '\(base).exp_avg_sq'", expected: "\(mt.count) elements", found: "\(vt.count)")
            }
            guard let st = state[key]?.data.first, st >= 0, st.isFinite else {
                throw SeafoldError.badInput(path: key, reason: "Adam step count must be a non-negative number")
            }
            let mb = FloatBuffer(count: mt.count); mb.copy(from: mt.data)
            let vb = FloatBuffer(count: vt.count); vb.copy(from: vt.data)
            nm[base] = mb; nv[base] = vb; ns[base] = mt.count; nt[base] = Int(st)
        }
        m = nm; v = nv; sizes = ns; steps = nt
    }
}

/// SGD with momentum, PyTorch semantics (`torch.optim.SGD`, dampening 0, no Nesterov):
/// d = g + wd·p; buf ← d on the first step, else buf ← momentum·buf + d; p ← p − lr·buf.
public final class SGD: Optimizer {
    public var lr: Float, momentum: Float, weightDecay: Float
    private var bufs: [String: FloatBuffer] = [:], sizes: [String: Int] = [:]

    public init(lr: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.lr = lr; self.momentum = momentum; self.weightDecay = weightDecay
    }

    public func step(_ params: [Parameter]) {
        for p in params where p.requiresGrad {
            let n = p.count, pw = p.value.ptr, g = p.grad.ptr
            let lr = lr, mom = momentum, wd = weightDecay
            if mom == 0 {
                for i in 0..<n { pw[i] -= lr * (g[i] + wd * pw[i]) }
                continue
            }
            let fresh = bufs[p.key] == nil || sizes[p.key] != n
            if fresh { bufs[p.key] = FloatBuffer(count: n); sizes[p.key] = n }
            let b = bufs[p.key]!.ptr
            for i in 0..<n {
                let d = g[i] + wd * pw[i]
                let bi = fresh ? d : mom * b[i] + d
                b[i] = bi
                pw[i] -= lr * bi
            }
        }
    }

    public func state() -> [String: Tensor] {
        var d: [String: Tensor] = [:]
        for (k, n) in sizes { if let b = bufs[k] { d[k + ".momentum_buffer"] = Tensor(shape: [n], data: b.array(n)) } }
        return d
    }

    public func restore(state: [String: Tensor]) throws {
        var nb: [String: FloatBuffer] = [:], ns: [String: Int] = [:]
        for (key, t) in state {
            guard key.hasSuffix(".momentum_buffer") else {
                throw SeafoldError.badInput(path: key, reason: "not an SGD state key (expected '<param>.momentum_buffer')")
            }
            let base = String(key.dropLast(".momentum_buffer".count))
            let b = FloatBuffer(count: t.count); b.copy(from: t.data)
            nb[base] = b; ns[base] = t.count
        }
        bufs = nb; sizes = ns
    }
}

/// One parameter's share of an Adam step.
private struct AdamJob {
    var start: Int, count: Int
    var pw: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>?
    var mp: UnsafeMutablePointer<Float>, vp: UnsafeMutablePointer<Float>
    /// The kernel's scalars at this parameter's step (`AdamUpdate.scalars`).
    var scalars: seafold_adam_scalars
    var lowRank: LowRankGradient?
}

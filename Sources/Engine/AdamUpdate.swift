import CKernels
import Foundation

/// One Adam update of one parameter tensor, `torch.optim.Adam` semantics (single-tensor CPU
/// path, amsgrad off): the element arithmetic of every Adam in seafold — `Adam` (network
/// parameters, fused and parallel) and Classifiers' FC head — so both compute the same bytes.
///
/// Per element: g ← g + wd·p (when wd ≠ 0); m ← m + (1−β1)(g − m); v ← β2·v + (1−β2)·g²;
/// p ← p − step_size · (m / (√v / √(1−β2ᵗ) + eps)), step_size = lr / (1−β1ᵗ). PyTorch's
/// `addcdiv_(exp_avg, denom, value=-step_size)` rounds the last step as (step_size·m) / denom
/// instead; the two differ in the last bit of a few elements in ten thousand, and the order
/// here is kept because every trained result depends on it. The bias corrections are computed in Double
/// (Python floats in PyTorch), the element arithmetic in Float by CKernels' adam.c (no FMA
/// contraction, so every instruction-set variant gives the same bytes).
public enum AdamUpdate {
    /// Updates `count` elements of `p`, `m` (exp_avg) and `v` (exp_avg_sq) in place from the
    /// gradient `g`, at step `t` (1-based, counted per parameter).
    public static func apply(p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                             v: UnsafeMutablePointer<Float>, count: Int, step t: Int,
                             lr: Float, beta1: Float, beta2: Float, eps: Float, weightDecay: Float) {
        var k = scalars(step: t, lr: lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
        seafold_adam_dense(p, g, m, v, 0, count, &k)
    }

    /// The same update on arrays (the FC head's parameters).
    public static func apply(p: inout [Float], g: [Float], m: inout [Float], v: inout [Float], step t: Int,
                             lr: Float, beta1: Float, beta2: Float, eps: Float, weightDecay: Float) {
        precondition(p.count == g.count && m.count == g.count && v.count == g.count, "Adam: parameter, gradient and state sizes differ")
        p.withUnsafeMutableBufferPointer { pp in
            g.withUnsafeBufferPointer { gp in
                m.withUnsafeMutableBufferPointer { mp in
                    v.withUnsafeMutableBufferPointer { vp in
                        guard let p0 = pp.baseAddress, let g0 = gp.baseAddress, let m0 = mp.baseAddress, let v0 = vp.baseAddress else { return }
                        apply(p: p0, g: g0, m: m0, v: v0, count: pp.count, step: t,
                              lr: lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
                    }
                }
            }
        }
    }

    /// The kernel's scalars at step `t`: PyTorch computes the bias corrections in double
    /// precision, then the tensor ops in float.
    static func scalars(step t: Int, lr: Float, beta1: Float, beta2: Float, eps: Float, weightDecay: Float) -> seafold_adam_scalars {
        let bc1 = 1 - pow(Double(beta1), Double(t)), bc2 = 1 - pow(Double(beta2), Double(t))
        return seafold_adam_scalars(weight_decay: weightDecay, one_minus_beta1: 1 - beta1, beta2: beta2,
                                    one_minus_beta2: 1 - beta2, eps: eps, step_size: Float(Double(lr) / bc1),
                                    bias_corr2_sqrt: Float(bc2.squareRoot()))
    }
}

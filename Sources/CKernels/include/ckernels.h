#ifndef SEAFOLD_CKERNELS_H
#define SEAFOLD_CKERNELS_H

/// Memory-bound element-wise kernels of the Engine, in C so that they can be compiled for the
/// CPU's widest vectors (AVX-512, AVX2, else SSE2) and picked at run time: Swift builds for the
/// generic x86-64 target, and its SIMD8 code here ran ~2.5x slower than C's SSE2.
///
/// Every variant performs the same IEEE single-precision operations in the same order
/// (no FMA contraction: built with -ffp-contract=off), so all give bit-identical results.

/// Adam's scalars for one parameter (PyTorch `torch.optim.Adam`, amsgrad off).
typedef struct {
    float weight_decay, one_minus_beta1, beta2, one_minus_beta2, eps;
    float step_size;      ///< lr / (1 - beta1^t)
    float bias_corr2_sqrt; ///< sqrt(1 - beta2^t)
} seafold_adam_scalars;

/// Adam on elements [lo, hi) with a dense gradient g:
/// g' = g + wd*p (when wd != 0); m = m + (1-b1)(g' - m); v = b2*v + (1-b2)*g'*g';
/// p = p - step_size * (m / (sqrt(v) / bias_corr2_sqrt + eps)).
void seafold_adam_dense(float *p, const float *g, float *m, float *v, long lo, long hi,
                        const seafold_adam_scalars *s);

/// The same update for a rows x cols weight whose gradient is G[r, c] = sum_n a[n*rows + r] * b[n*cols + c]
/// (n = 0..<batch, summed in increasing n: a[0]*b[0] first, then + a[n]*b[n], no FMA), computed
/// on the fly so the dense gradient is never written. Elements are row-major indices into p.
void seafold_adam_lowrank(float *p, float *m, float *v, const float *a, const float *b,
                          long rows, long cols, long batch, long lo, long hi,
                          const seafold_adam_scalars *s);

/// The instruction set in use: 0 = generic (SSE2), 1 = AVX2, 2 = AVX-512F.
int seafold_kernels_level(void);
/// Forces a level (for tests and benchmarks); a level the CPU lacks is lowered to one it has.
/// -1 returns to automatic selection.
void seafold_kernels_force_level(int level);

#endif

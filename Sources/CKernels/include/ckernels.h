#ifndef SEAFOLD_CKERNELS_H
#define SEAFOLD_CKERNELS_H

/// Kernels of the Engine written in C so that they can be compiled for the CPU's widest vectors
/// (AVX-512, AVX2, else SSE2) and picked at run time: Swift builds for the generic x86-64
/// target, and its SIMD8 code ran slower than C's SSE2 build.
///
/// The Adam kernels perform the same IEEE single-precision operations in the same order at
/// every level (no FMA contraction: built with -ffp-contract=off), so all give bit-identical
/// results. The implicit-GEMM convolution is the exception: its fast variants use explicit FMA
/// intrinsics (see below).

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

/// Geometry of a convolution (PyTorch `nn.Conv2d`, groups 1, dilation 1, square kernel) for
/// the implicit-GEMM forward below. `rows_per_item` output rows of one sample form one work item.
typedef struct {
    long cin, h, w;            ///< input channels and size per sample (NCHW)
    long cout, k, stride, pad; ///< output channels, kernel size, stride, zero padding
    long oh, ow;               ///< output size: (h + 2 pad - k) / stride + 1, likewise for w
    long rows_per_item;        ///< output rows per work item (>= 1)
} seafold_conv_geometry;

/// Implicit-GEMM ("direct") forward convolution: y = conv(x, w) + bias with the arithmetic of
/// im2col + GEMM, out[co, pixel] = sum over taps t = (c, kh, kw) in increasing t of
/// w[co, t] * x[c, iy, ix] (zero outside the image), but without the column matrix: each
/// work item copies the input rows it reads into a small zero-padded band and a register tile of
/// pixels x 64 output channels accumulates straight from it. Every output element is computed by
/// one tile in the same tap order whatever the work split, so results do not depend on how the
/// items are spread over threads. The AVX-512F and AVX2 variants use FMA (one rounding per
/// multiply-add), the generic one multiplies and adds separately: like OpenBLAS, results depend
/// on the instruction set (on one machine they are deterministic). See conv_implicit.c.
///
/// Floats of the packed weight for `cout` output channels and kdim = cin*k*k taps.
long seafold_conv_implicit_packed_floats(long cout, long kdim);
/// Repacks w [cout][kdim] (PyTorch layout) into blocks of 64 channels, [block][tap][64]
/// (channels past cout are zero). Same layout at every instruction-set level.
void seafold_conv_implicit_pack(const float *w, long cout, long kdim, float *packed);
/// Number of work items for `batch` samples: batch * ceil(oh / rows_per_item); item
/// i = sample * groups + row group.
long seafold_conv_implicit_items(const seafold_conv_geometry *g, long batch);
/// 1 when the forward runs a vector variant (AVX-512F, or AVX2 with FMA), 0 for plain C (far
/// slower than the vector variants and than im2col + OpenBLAS, so not worth using).
int seafold_conv_implicit_vectorized(void);
/// Computes the outputs of work items [lo, hi) into y [batch][cout][oh][ow] (NCHW) from
/// x [batch][cin][h][w]; bias [cout] or NULL. Items may run concurrently (disjoint outputs).
/// Returns 0, or -1 when its scratch memory (about cin * ((rows-1)*stride + k) * (w + 2 pad)
/// floats) could not be allocated.
int seafold_conv_implicit_forward(const float *x, const float *packed, const float *bias, float *y,
                                  const seafold_conv_geometry *g, long lo, long hi);

/// The instruction set in use: 0 = generic (SSE2), 1 = AVX2, 2 = AVX-512F.
int seafold_kernels_level(void);
/// Forces a level (for tests and benchmarks); a level the CPU lacks is lowered to one it has.
/// -1 returns to automatic selection.
void seafold_kernels_force_level(int level);

#endif

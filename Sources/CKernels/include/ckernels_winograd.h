#ifndef SEAFOLD_CKERNELS_WINOGRAD_H
#define SEAFOLD_CKERNELS_WINOGRAD_H

/// The transforms of Winograd minimal filtering F(m×m, r×r) for tiles of n = m + r − 1 ≤ 8
/// (Lavin & Gray 2016). The matrices come from the caller (Cook–Toom construction in Swift);
/// the GEMMs between the transforms are OpenBLAS calls made by the caller.
///
/// Layouts (row-major): x NCHW input; V[ξ][c][t] transformed input with ξ = ξy·n + ξx and
/// t = (s·tilesH + ty)·tilesW + tx over the nb samples of the chunk; U[ξ][o][i] transformed
/// filters; M[ξ][o][t] the GEMM output; y NCHW output. Every variant (AVX-512F, AVX2, generic)
/// performs the same single-precision operations in the same order (no FMA contraction), so
/// all give bit-identical results, and each output element is computed by one thread.

typedef struct {
    long m, r, n;          ///< output tile, filter size, input tile (n = m + r − 1 ≤ 8)
    long channels;         ///< input channels of the convolution being computed
    long out_channels;
    long in_h, in_w, pad;  ///< input plane and its zero padding
    long out_h, out_w;
    long tiles_h, tiles_w; ///< ceil(out / m)
    const float *bt;       ///< Bᵀ, n×n
    const float *at;       ///< Aᵀ, m×n
} seafold_winograd_geometry;

/// V for input channels [c_lo, c_hi) of samples 0..<nb of x (zero outside the image).
void seafold_winograd_input(const seafold_winograd_geometry *geo, const float *x, long nb,
                            float *v, long c_lo, long c_hi);

/// y[s][o] = Aᵀ M A (+ bias[o]) cropped to the output plane, for output channels [o_lo, o_hi).
/// bias may be NULL.
void seafold_winograd_output(const seafold_winograd_geometry *geo, const float *mm, long nb,
                             const float *bias, float *y, long o_lo, long o_hi);

/// U[ξ][o][i] = (G g Gᵀ)[ξ] for rows o in [o_lo, o_hi) of a U with `rows` × `cols` filters,
/// where filter (o, i) is r×r floats at w + o·o_stride + i·i_stride, read rotated by 180° when
/// `rotate` (the backward-data convolution). G is n×r in double; U is computed in double and
/// rounded once.
void seafold_winograd_filters(const float *w, long r, long n, const double *g, long rows,
                              long cols, long o_stride, long i_stride, int rotate, float *u,
                              long o_lo, long o_hi);

#endif

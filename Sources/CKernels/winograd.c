// Winograd F(m×m, r×r) transforms, compiled for AVX-512F, AVX2 and generic x86-64 from one body;
// see ckernels_winograd.h.
#include "ckernels_winograd.h"
#include "ckernels.h"
#include <stdlib.h>
#include <string.h>

#define NMAX 8

#define LANES 16

// Both transforms run on LANES consecutive tiles at once (one vector lane per tile), so the
// transformed values are read and written as whole cache lines: the n² planes of V and M are
// ~100 KB–1 MB apart and, touched one float per tile, alias in the caches. The vectors are
// GCC/Clang vector types: one zmm with AVX-512F, two ymm with AVX2, four xmm otherwise, the
// same lane-wise operations in every case.
typedef float vlanes __attribute__((vector_size(LANES * sizeof(float))));
#define VLOAD(dst, p) memcpy(&(dst), (p), sizeof(vlanes))
#define VSTORE(p, src) memcpy((p), &(src), sizeof(vlanes))
// ACC = Σ_{K < COUNT} WEIGHT·VEC over the nonzero weights, in increasing K (one fixed order).
#define LANE_SUM(ACC, K, COUNT, WEIGHT, VEC)                                               \
    vlanes ACC = {0};                                                                      \
    for (long K = 0; K < (COUNT); K++) {                                                   \
        const float w_ = (WEIGHT);                                                         \
        if (w_ != 0) ACC = ACC + w_ * (VEC);                                               \
    }

#define INPUT_BODY                                                                         \
    const long m = geo->m, n = geo->n, ih = geo->in_h, iw = geo->in_w, pad = geo->pad;     \
    const long th = geo->tiles_h, tw = geo->tiles_w, C = geo->channels;                    \
    const long tpi = th * tw, tiles = nb * tpi;                                            \
    /* The zero-padded plane covering every tile. */                                       \
    const long ph = (th - 1) * m + n, pw = (tw - 1) * m + n, pp = ph * pw;                 \
    float bt[NMAX * NMAX];                                                                 \
    for (long k = 0; k < n * n; k++) bt[k] = geo->bt[k];                                   \
    for (long c = c_lo; c < c_hi; c++) {                                                   \
        for (long s = 0; s < nb; s++) {                                                    \
            float *dst = pbuf + s * pp;                                                    \
            const float *src = x + (s * C + c) * ih * iw;                                  \
            for (long py = 0; py < ph; py++) {                                             \
                const long iy = py - pad;                                                  \
                float *row = dst + py * pw;                                                \
                if (iy < 0 || iy >= ih) { memset(row, 0, sizeof(float) * pw); continue; } \
                const long lo = pad < pw ? pad : pw, hi = pad + iw < pw ? pad + iw : pw;   \
                for (long px = 0; px < lo; px++) row[px] = 0;                              \
                memcpy(row + lo, src + iy * iw + lo - pad, sizeof(float) * (hi - lo));     \
                for (long px = hi; px < pw; px++) row[px] = 0;                             \
            }                                                                              \
        }                                                                                  \
        for (long t0 = 0; t0 < tiles; t0 += LANES) {                                       \
            const long cnt = tiles - t0 < LANES ? tiles - t0 : LANES;                      \
            long base[LANES];                                                              \
            for (long l = 0; l < LANES; l++) {                                             \
                const long t = t0 + (l < cnt ? l : 0), s = t / tpi, rem = t - s * tpi;     \
                const long ty = rem / tw, tx = rem - ty * tw;                              \
                base[l] = s * pp + ty * m * pw + tx * m;                                   \
            }                                                                              \
            /* Gather the n×n patch of every lane's tile (all stores land before the loads). */ \
            float dg[NMAX * NMAX][LANES];                                                  \
            for (long l = 0; l < LANES; l++) {                                             \
                const float *patch = pbuf + base[l];                                       \
                for (long r = 0; r < n; r++)                                               \
                    for (long q = 0; q < n; q++) dg[r * n + q][l] = patch[r * pw + q];     \
            }                                                                              \
            vlanes d[NMAX * NMAX], t1[NMAX * NMAX];                                        \
            for (long k = 0; k < n * n; k++) VLOAD(d[k], dg[k]);                           \
            /* Along x: t1[r][b] = Σ_q Bᵀ[b][q] d[r][q]. */                                \
            for (long r = 0; r < n; r++)                                                   \
                for (long b = 0; b < n; b++) {                                             \
                    LANE_SUM(acc, q, n, bt[b * n + q], d[r * n + q])                       \
                    t1[r * n + b] = acc;                                                   \
                }                                                                          \
            /* Along y: V[a][b] = Σ_r Bᵀ[a][r] t1[r][b]. */                                \
            for (long a = 0; a < n; a++)                                                   \
                for (long b = 0; b < n; b++) {                                             \
                    LANE_SUM(acc, r, n, bt[a * n + r], t1[r * n + b])                      \
                    float *out = v + ((a * n + b) * C + c) * tiles + t0;                   \
                    if (cnt == LANES) VSTORE(out, acc);                                    \
                    else { float tmp[LANES]; VSTORE(tmp, acc); memcpy(out, tmp, sizeof(float) * cnt); } \
                }                                                                          \
        }                                                                                  \
    }

#define OUTPUT_BODY                                                                        \
    const long m = geo->m, n = geo->n, oh = geo->out_h, ow = geo->out_w;                   \
    const long th = geo->tiles_h, tw = geo->tiles_w, CO = geo->out_channels;               \
    const long tpi = th * tw, tiles = nb * tpi, plane = oh * ow;                           \
    float at[NMAX * NMAX];                                                                 \
    for (long k = 0; k < m * n; k++) at[k] = geo->at[k];                                   \
    for (long t0 = 0; t0 < tiles; t0 += LANES) {                                           \
        const long cnt = tiles - t0 < LANES ? tiles - t0 : LANES;                          \
        /* Per lane: the tile's first output element (channel 0) and its extent. */       \
        long obase[LANES], mi[LANES], mj[LANES];                                           \
        for (long l = 0; l < LANES; l++) {                                                 \
            const long t = t0 + (l < cnt ? l : 0), s = t / tpi, rem = t - s * tpi;         \
            const long ty = rem / tw, tx = rem - ty * tw;                                  \
            obase[l] = s * CO * plane + ty * m * ow + tx * m;                              \
            mi[l] = oh - ty * m < m ? oh - ty * m : m;                                     \
            mj[l] = ow - tx * m < m ? ow - tx * m : m;                                     \
        }                                                                                  \
        for (long o = o_lo; o < o_hi; o++) {                                               \
            const float bv = bias ? bias[o] : 0.0f;                                        \
            vlanes mt[NMAX * NMAX], S[NMAX * NMAX];                                        \
            for (long k = 0; k < n * n; k++) {                                             \
                const float *src = mm + (k * CO + o) * tiles + t0;                         \
                if (cnt == LANES) VLOAD(mt[k], src);                                       \
                else { float tmp[LANES] = {0}; memcpy(tmp, src, sizeof(float) * cnt); VLOAD(mt[k], tmp); } \
            }                                                                              \
            /* Along x: S[a][j] = Σ_b M[a][b] Aᵀ[j][b]. */                                  \
            for (long a = 0; a < n; a++)                                                   \
                for (long j = 0; j < m; j++) {                                             \
                    LANE_SUM(acc, b, n, at[j * n + b], mt[a * n + b])                      \
                    S[a * m + j] = acc;                                                    \
                }                                                                          \
            /* Along y: Y[i][j] = Σ_a Aᵀ[i][a] S[a][j] + bias, scattered to the plane. */  \
            float *yo = y + o * plane;                                                     \
            for (long i = 0; i < m; i++)                                                   \
                for (long j = 0; j < m; j++) {                                             \
                    LANE_SUM(acc, a, n, at[i * n + a], S[a * m + j])                       \
                    acc = acc + bv;                                                        \
                    float res[LANES];                                                      \
                    VSTORE(res, acc);                                                      \
                    for (long l = 0; l < cnt; l++)                                         \
                        if (i < mi[l] && j < mj[l]) yo[obase[l] + i * ow + j] = res[l];    \
                }                                                                          \
        }                                                                                  \
    }

#define DEFINE_LEVEL(SUFFIX, ATTR)                                                         \
    ATTR static void input_##SUFFIX(const seafold_winograd_geometry *geo, const float *x,  \
                                    long nb, float *v, long c_lo, long c_hi,               \
                                    float *pbuf) {                                         \
        INPUT_BODY                                                                         \
    }                                                                                      \
    ATTR static void output_##SUFFIX(const seafold_winograd_geometry *geo,                 \
                                     const float *mm, long nb, const float *bias,          \
                                     float *y, long o_lo, long o_hi) {                     \
        OUTPUT_BODY                                                                        \
    }

DEFINE_LEVEL(generic, )
DEFINE_LEVEL(avx2, __attribute__((target("avx2"))))
DEFINE_LEVEL(avx512, __attribute__((target("avx512f"))))

void seafold_winograd_input(const seafold_winograd_geometry *geo, const float *x, long nb,
                            float *v, long c_lo, long c_hi) {
    // The padded planes of one channel for all nb samples, in a per-thread buffer kept for
    // reuse (no allocation per call once grown).
    static __thread float *pbuf = 0;
    static __thread long pcap = 0;
    const long need = nb * ((geo->tiles_h - 1) * geo->m + geo->n) * ((geo->tiles_w - 1) * geo->m + geo->n);
    if (need > pcap) {
        free(pbuf);
        pbuf = malloc(sizeof(float) * (size_t)need);
        if (!pbuf) { pcap = 0; abort(); }
        pcap = need;
    }
    if (seafold_kernels_level() >= 2) input_avx512(geo, x, nb, v, c_lo, c_hi, pbuf);
    else if (seafold_kernels_level() >= 1) input_avx2(geo, x, nb, v, c_lo, c_hi, pbuf);
    else input_generic(geo, x, nb, v, c_lo, c_hi, pbuf);
}

void seafold_winograd_output(const seafold_winograd_geometry *geo, const float *mm, long nb,
                             const float *bias, float *y, long o_lo, long o_hi) {
    if (seafold_kernels_level() >= 2) output_avx512(geo, mm, nb, bias, y, o_lo, o_hi);
    else if (seafold_kernels_level() >= 1) output_avx2(geo, mm, nb, bias, y, o_lo, o_hi);
    else output_generic(geo, mm, nb, bias, y, o_lo, o_hi);
}

void seafold_winograd_filters(const float *w, long r, long n, const double *g, long rows,
                              long cols, long o_stride, long i_stride, int rotate, float *u,
                              long o_lo, long o_hi) {
    double gg[NMAX][NMAX], t[NMAX][NMAX];
    const long plane = rows * cols;
    for (long o = o_lo; o < o_hi; o++) {
        for (long i = 0; i < cols; i++) {
            const float *f = w + o * o_stride + i * i_stride;
            for (long a = 0; a < r; a++)
                for (long b = 0; b < r; b++)
                    gg[a][b] = rotate ? f[(r - 1 - a) * r + (r - 1 - b)] : f[a * r + b];
            // t = G g (n×r), then U = t Gᵀ (n×n).
            for (long p = 0; p < n; p++)
                for (long b = 0; b < r; b++) {
                    double sum = 0;
                    for (long a = 0; a < r; a++) sum += g[p * r + a] * gg[a][b];
                    t[p][b] = sum;
                }
            float *dst = u + o * cols + i;
            for (long p = 0; p < n; p++)
                for (long q = 0; q < n; q++) {
                    double sum = 0;
                    for (long b = 0; b < r; b++) sum += t[p][b] * g[q * r + b];
                    dst[(p * n + q) * plane] = (float)sum;
                }
        }
    }
}

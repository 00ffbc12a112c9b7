// Implicit-GEMM forward convolution (see ckernels.h): the GEMM out[Cout, pixels] =
// W[Cout, taps] · col[taps, pixels] of im2col, with the column matrix never written. Each work
// item (one sample, a group of output rows) copies the input rows it needs into a zero-padded
// band, so every output pixel, border or not, reads its receptive field at one fixed offset
// per tap; a register tile of P pixels × 64 output channels then accumulates tap after tap
// (input value broadcast, weight vector loaded from the repacked [tap][64] block).
#include "ckernels.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define CB 64 // output channels per packed weight block

long seafold_conv_implicit_packed_floats(long cout, long kdim) {
    return (cout + CB - 1) / CB * CB * kdim;
}

void seafold_conv_implicit_pack(const float *w, long cout, long kdim, float *packed) {
    long blocks = (cout + CB - 1) / CB;
    for (long b = 0; b < blocks; b++)
        for (long t = 0; t < kdim; t++) {
            float *dst = packed + (b * kdim + t) * CB;
            for (long j = 0; j < CB; j++) {
                long co = b * CB + j;
                dst[j] = co < cout ? w[co * kdim + t] : 0.0f;
            }
        }
}

long seafold_conv_implicit_items(const seafold_conv_geometry *g, long batch) {
    return batch * ((g->oh + g->rows_per_item - 1) / g->rows_per_item);
}

// ---- Tile kernels: acc[i][j] = sum over taps t (in increasing t) of src[i][off[t]] * w[t*CB + j],
// written to tmp[i*CB + j] for the P pixels i and the CB channels j of one block.

#define P512 6
__attribute__((target("avx512f"))) static void tile_avx512(const float *const *src, const long *off, long kdim,
                                                           const float *w, float *tmp) {
    __m512 acc[P512][4];
    for (int i = 0; i < P512; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_ps();
    const float *s0 = src[0], *s1 = src[1], *s2 = src[2], *s3 = src[3], *s4 = src[4], *s5 = src[5];
    for (long t = 0; t < kdim; t++, w += CB) {
        const long o = off[t];
        const __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16), w2 = _mm512_loadu_ps(w + 32),
                     w3 = _mm512_loadu_ps(w + 48);
#define ROW512(I, S)                                                                            \
    do {                                                                                        \
        const __m512 b = _mm512_set1_ps(S[o]);                                                  \
        acc[I][0] = _mm512_fmadd_ps(b, w0, acc[I][0]);                                          \
        acc[I][1] = _mm512_fmadd_ps(b, w1, acc[I][1]);                                          \
        acc[I][2] = _mm512_fmadd_ps(b, w2, acc[I][2]);                                          \
        acc[I][3] = _mm512_fmadd_ps(b, w3, acc[I][3]);                                          \
    } while (0)
        ROW512(0, s0); ROW512(1, s1); ROW512(2, s2); ROW512(3, s3); ROW512(4, s4); ROW512(5, s5);
#undef ROW512
    }
    for (int i = 0; i < P512; i++)
        for (int j = 0; j < 4; j++) _mm512_store_ps(tmp + i * CB + j * 16, acc[i][j]);
}

// AVX2 has 16 vector registers: 3 pixels × 32 channels (12 accumulators), run twice per block.
#define P256 3
__attribute__((target("avx2,fma"))) static void tile_avx2_half(const float *const *src, const long *off, long kdim,
                                                               const float *w, float *tmp) {
    __m256 acc[P256][4];
    for (int i = 0; i < P256; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = _mm256_setzero_ps();
    const float *s0 = src[0], *s1 = src[1], *s2 = src[2];
    for (long t = 0; t < kdim; t++, w += CB) {
        const long o = off[t];
        const __m256 b0 = _mm256_set1_ps(s0[o]), b1 = _mm256_set1_ps(s1[o]), b2 = _mm256_set1_ps(s2[o]);
        for (int j = 0; j < 4; j++) {
            const __m256 wj = _mm256_loadu_ps(w + 8 * j);
            acc[0][j] = _mm256_fmadd_ps(b0, wj, acc[0][j]);
            acc[1][j] = _mm256_fmadd_ps(b1, wj, acc[1][j]);
            acc[2][j] = _mm256_fmadd_ps(b2, wj, acc[2][j]);
        }
    }
    for (int i = 0; i < P256; i++)
        for (int j = 0; j < 4; j++) _mm256_storeu_ps(tmp + i * CB + 8 * j, acc[i][j]);
}

__attribute__((target("avx2,fma"))) static void tile_avx2(const float *const *src, const long *off, long kdim,
                                                          const float *w, float *tmp) {
    tile_avx2_half(src, off, kdim, w, tmp);
    tile_avx2_half(src, off, kdim, w + 32, tmp + 32);
}

// Plain C (SSE2 at most, no FMA: multiply, round, add, round), 4 pixels × 8 channels at a time.
#define PGEN 4
static void tile_generic(const float *const *src, const long *off, long kdim, const float *w, float *tmp) {
    for (int j0 = 0; j0 < CB; j0 += 8) {
        float acc[PGEN][8] = {{0}};
        for (long t = 0; t < kdim; t++) {
            const long o = off[t];
            const float *wt = w + t * CB + j0;
            for (int i = 0; i < PGEN; i++) {
                const float b = src[i][o];
                for (int j = 0; j < 8; j++) acc[i][j] = acc[i][j] + b * wt[j];
            }
        }
        for (int i = 0; i < PGEN; i++)
            for (int j = 0; j < 8; j++) tmp[i * CB + j0 + j] = acc[i][j];
    }
}

// The variant for the current level; AVX2 without FMA (no such x86 CPU is known) falls back.
static int implicit_level(void) {
    int level = seafold_kernels_level();
    if (level == 1) {
        __builtin_cpu_init();
        if (!__builtin_cpu_supports("fma")) level = 0;
    }
    return level;
}

int seafold_conv_implicit_vectorized(void) { return implicit_level() > 0; }

int seafold_conv_implicit_forward(const float *x, const float *packed, const float *bias, float *y,
                                  const seafold_conv_geometry *g, long lo, long hi) {
    const long cin = g->cin, ih = g->h, iw = g->w, cout = g->cout, k = g->k, s = g->stride, p = g->pad;
    const long oh = g->oh, ow = g->ow, rows = g->rows_per_item;
    const long groups = (oh + rows - 1) / rows, kdim = cin * k * k, blocks = (cout + CB - 1) / CB;
    const long wp = iw + 2 * p, bandRows = (rows - 1) * s + k, plane = bandRows * wp;
    void (*tile)(const float *const *, const long *, long, const float *, float *);
    int P;
    switch (implicit_level()) {
    case 2: tile = tile_avx512; P = P512; break;
    case 1: tile = tile_avx2; P = P256; break;
    default: tile = tile_generic; P = PGEN; break;
    }
    float *band = malloc(sizeof(float) * (size_t)(cin * plane));
    long *off = malloc(sizeof(long) * (size_t)kdim);
    float *tmp = aligned_alloc(64, sizeof(float) * P512 * CB);
    if (!band || !off || !tmp) { free(band); free(off); free(tmp); return -1; }
    for (long c = 0, t = 0; c < cin; c++)
        for (long kh = 0; kh < k; kh++)
            for (long kw = 0; kw < k; kw++) off[t++] = c * plane + kh * wp + kw;

    for (long item = lo; item < hi; item++) {
        const long n = item / groups, oy0 = (item % groups) * rows;
        const long oy1 = oy0 + rows < oh ? oy0 + rows : oh;
        // Zero-padded copy of input rows oy0*s-p ..< oy0*s-p+bandRows (only the rows used).
        const long iy0 = oy0 * s - p, used = (oy1 - 1 - oy0) * s + k;
        for (long c = 0; c < cin; c++) {
            const float *xc = x + (n * cin + c) * ih * iw;
            for (long r = 0; r < used; r++) {
                float *dst = band + c * plane + r * wp;
                const long iy = iy0 + r;
                if (iy < 0 || iy >= ih) { memset(dst, 0, sizeof(float) * (size_t)wp); continue; }
                memset(dst, 0, sizeof(float) * (size_t)p);
                memcpy(dst + p, xc + iy * iw, sizeof(float) * (size_t)iw);
                memset(dst + p + iw, 0, sizeof(float) * (size_t)p);
            }
        }
        const long npix = (oy1 - oy0) * ow;
        float *yn = y + n * cout * oh * ow + oy0 * ow;
        for (long b = 0; b < blocks; b++) {
            const float *wb = packed + b * kdim * CB;
            const long cEnd = (b + 1) * CB < cout ? CB : cout - b * CB;
            for (long q0 = 0; q0 < npix; q0 += P) {
                const long valid = npix - q0 < P ? npix - q0 : P;
                const float *src[P512];
                for (long i = 0; i < P; i++) {
                    // Pixels past the end repeat the last one (computed, not stored).
                    const long q = q0 + (i < valid ? i : valid - 1), r = q / ow, ox = q % ow;
                    src[i] = band + r * s * wp + ox * s;
                }
                tile(src, off, kdim, wb, tmp);
                for (long j = 0; j < cEnd; j++) {
                    const long co = b * CB + j;
                    const float bv = bias ? bias[co] : 0.0f;
                    float *dst = yn + co * oh * ow + q0;
                    for (long i = 0; i < valid; i++) dst[i] = tmp[i * CB + j] + bv;
                }
            }
        }
    }
    free(band); free(off); free(tmp);
    return 0;
}

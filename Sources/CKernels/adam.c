// Adam kernels, compiled three times (generic, AVX2, AVX-512F) from one body; see ckernels.h.
#include "ckernels.h"
#include <math.h>

#define TILE 256

#define ADAM_ELEMENT(GRAD, I)                                                          \
    do {                                                                               \
        float g_ = (GRAD);                                                             \
        if (wd != 0) g_ = g_ + wd * p[I];                                              \
        float m1_ = m[I] + b1c * (g_ - m[I]);                                          \
        float v1_ = b2 * v[I] + b2c * g_ * g_;                                         \
        m[I] = m1_;                                                                    \
        v[I] = v1_;                                                                    \
        p[I] = p[I] - step * (m1_ / (sqrtf(v1_) / bc2 + eps));                         \
    } while (0)

#define SCALARS                                                                        \
    const float wd = s->weight_decay, b1c = s->one_minus_beta1, b2 = s->beta2,         \
                b2c = s->one_minus_beta2, eps = s->eps, step = s->step_size,           \
                bc2 = s->bias_corr2_sqrt

#define DENSE_BODY                                                                     \
    SCALARS;                                                                           \
    for (long i = lo; i < hi; i++) ADAM_ELEMENT(g[i], i);

// The gradient of a tile of one row is built in a small buffer (same summation order as the
// definition), then updated like a dense gradient.
#define LOWRANK_BODY                                                                   \
    SCALARS;                                                                           \
    float gt[TILE];                                                                    \
    long e = lo;                                                                       \
    while (e < hi) {                                                                   \
        long r = e / cols, c0 = e - r * cols;                                          \
        long c1 = cols < c0 + (hi - e) ? cols : c0 + (hi - e);                         \
        for (long c = c0; c < c1; c += TILE) {                                         \
            long len = c1 - c < TILE ? c1 - c : TILE;                                  \
            const float a0 = a[r];                                                     \
            for (long j = 0; j < len; j++) gt[j] = a0 * b[c + j];                      \
            for (long n = 1; n < batch; n++) {                                         \
                const float an = a[n * rows + r];                                      \
                const float *bn = b + n * cols + c;                                    \
                for (long j = 0; j < len; j++) gt[j] = gt[j] + an * bn[j];             \
            }                                                                          \
            float *pr = p + r * cols + c, *mr = m + r * cols + c, *vr = v + r * cols + c; \
            kernel_tile(pr, gt, mr, vr, len, s);                                       \
        }                                                                              \
        e += c1 - c0;                                                                  \
    }

#define DEFINE_LEVEL(SUFFIX, ATTR)                                                     \
    ATTR static void dense_##SUFFIX(float *restrict p, const float *restrict g,        \
                                    float *restrict m, float *restrict v, long lo,     \
                                    long hi, const seafold_adam_scalars *s) {          \
        DENSE_BODY                                                                     \
    }                                                                                  \
    ATTR static void tile_##SUFFIX(float *restrict p, const float *restrict g,         \
                                   float *restrict m, float *restrict v, long len,     \
                                   const seafold_adam_scalars *s) {                    \
        dense_##SUFFIX(p, g, m, v, 0, len, s);                                         \
    }                                                                                  \
    ATTR static void lowrank_##SUFFIX(float *restrict p, float *restrict m,            \
                                      float *restrict v, const float *restrict a,      \
                                      const float *restrict b, long rows, long cols,   \
                                      long batch, long lo, long hi,                    \
                                      const seafold_adam_scalars *s) {                 \
        void (*kernel_tile)(float *restrict, const float *restrict, float *restrict,   \
                            float *restrict, long, const seafold_adam_scalars *) =     \
            tile_##SUFFIX;                                                             \
        LOWRANK_BODY                                                                   \
    }

DEFINE_LEVEL(generic, )
DEFINE_LEVEL(avx2, __attribute__((target("avx2"))))
DEFINE_LEVEL(avx512, __attribute__((target("avx512f"))))

static int forced = -1;
static int detected = -1;

static int cpu_level(void) {
    int d = __atomic_load_n(&detected, __ATOMIC_RELAXED);
    if (d < 0) {
        __builtin_cpu_init();
        d = __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
        __atomic_store_n(&detected, d, __ATOMIC_RELAXED);
    }
    return d;
}

int seafold_kernels_level(void) {
    int f = __atomic_load_n(&forced, __ATOMIC_RELAXED), d = cpu_level();
    return f >= 0 && f < d ? f : d;
}

void seafold_kernels_force_level(int level) { __atomic_store_n(&forced, level, __ATOMIC_RELAXED); }

void seafold_adam_dense(float *p, const float *g, float *m, float *v, long lo, long hi,
                        const seafold_adam_scalars *s) {
    switch (seafold_kernels_level()) {
    case 2: dense_avx512(p, g, m, v, lo, hi, s); break;
    case 1: dense_avx2(p, g, m, v, lo, hi, s); break;
    default: dense_generic(p, g, m, v, lo, hi, s); break;
    }
}

void seafold_adam_lowrank(float *p, float *m, float *v, const float *a, const float *b,
                          long rows, long cols, long batch, long lo, long hi,
                          const seafold_adam_scalars *s) {
    switch (seafold_kernels_level()) {
    case 2: lowrank_avx512(p, m, v, a, b, rows, cols, batch, lo, hi, s); break;
    case 1: lowrank_avx2(p, m, v, a, b, rows, cols, batch, lo, hi, s); break;
    default: lowrank_generic(p, m, v, a, b, rows, cols, batch, lo, hi, s); break;
    }
}

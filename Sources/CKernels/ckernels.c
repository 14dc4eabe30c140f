#include "ckernels.h"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CS_X86 1
#endif

/* ---- portable versions ---- */
static void small_f32_generic(int m, int n, int k, const float *x, const float *w, float *y, int ldy) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float s = 0;
            for (int t = 0; t < k; t++) s += x[i * k + t] * w[j * k + t];
            y[i * ldy + j] = s;
        }
}

static void small_i8_generic(int m, int n, int k, const float *x, const int8_t *q, const float *sc, float *y, int ldy) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float s = 0;
            for (int t = 0; t < k; t++) s += x[i * k + t] * (float)q[j * k + t];
            y[i * ldy + j] = s * sc[j];
        }
}

#ifdef CS_X86
__attribute__((target("avx2,fma"))) static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

/* One block: rows i0..i0+mb (mb <= 4) of x against weight rows j0, j0+1 (nb <= 2). LOADW
 * yields 8 weights of row r at column t as __m256. k must be a multiple of 8 (tail in scalar). */
#define SMALL_KERNEL(NAME, WTYPE, LOADW, SCALAR_W, SCALE)                                               \
__attribute__((target("avx2,fma"))) static void NAME(int m, int n, int k, const float *x,                \
        const WTYPE *w, const float *sc, float *y, int ldy) {                                          \
    (void)sc;                                                                                          \
    int k8 = k & ~7;                                                                                   \
    for (int j = 0; j < n; j += 2) {                                                                   \
        int nb = n - j < 2 ? n - j : 2;                                                                \
        const WTYPE *w0 = w + (long)j * k, *w1 = w + (long)(j + nb - 1) * k;                           \
        for (int i = 0; i < m; i += 4) {                                                               \
            int mb = m - i < 4 ? m - i : 4;                                                            \
            const float *x0 = x + (long)i * k;                                                         \
            const float *x1 = x + (long)(i + (mb > 1 ? 1 : 0)) * k;                                    \
            const float *x2 = x + (long)(i + (mb > 2 ? 2 : 0)) * k;                                    \
            const float *x3 = x + (long)(i + (mb > 3 ? 3 : 0)) * k;                                    \
            __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00;                        \
            __m256 a20 = a00, a21 = a00, a30 = a00, a31 = a00;                                          \
            for (int t = 0; t < k8; t += 8) {                                                          \
                __m256 b0 = LOADW(w0 + t), b1 = LOADW(w1 + t);                                         \
                __m256 v = _mm256_loadu_ps(x0 + t);                                                    \
                a00 = _mm256_fmadd_ps(v, b0, a00); a01 = _mm256_fmadd_ps(v, b1, a01);                  \
                v = _mm256_loadu_ps(x1 + t);                                                           \
                a10 = _mm256_fmadd_ps(v, b0, a10); a11 = _mm256_fmadd_ps(v, b1, a11);                  \
                v = _mm256_loadu_ps(x2 + t);                                                           \
                a20 = _mm256_fmadd_ps(v, b0, a20); a21 = _mm256_fmadd_ps(v, b1, a21);                  \
                v = _mm256_loadu_ps(x3 + t);                                                           \
                a30 = _mm256_fmadd_ps(v, b0, a30); a31 = _mm256_fmadd_ps(v, b1, a31);                  \
            }                                                                                          \
            float r[4][2] = {{hsum256(a00), hsum256(a01)}, {hsum256(a10), hsum256(a11)},               \
                             {hsum256(a20), hsum256(a21)}, {hsum256(a30), hsum256(a31)}};              \
            const float *xs[4] = {x0, x1, x2, x3};                                                     \
            const WTYPE *ws[2] = {w0, w1};                                                             \
            for (int a = 0; a < mb; a++)                                                               \
                for (int b = 0; b < nb; b++) {                                                         \
                    float s = r[a][b];                                                                 \
                    for (int t = k8; t < k; t++) s += xs[a][t] * SCALAR_W(ws[b][t]);                  \
                    y[(long)(i + a) * ldy + j + b] = s * SCALE(j + b);                                 \
                }                                                                                      \
        }                                                                                              \
    }                                                                                                  \
}

#define LOAD_F32(p) _mm256_loadu_ps(p)
#define LOAD_I8(p) _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p))))
#define W_F32(v) (v)
#define W_I8(v) ((float)(v))
#define SCALE_ONE(j) 1.0f
#define SCALE_ROW(j) sc[j]

SMALL_KERNEL(small_f32_avx2, float, LOAD_F32, W_F32, SCALE_ONE)
SMALL_KERNEL(small_i8_avx2, int8_t, LOAD_I8, W_I8, SCALE_ROW)

static int have_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}
#else
static int have_avx2(void) { return 0; }
#endif

int cs_kernels_have_avx2(void) { return have_avx2(); }

void cs_small_matmul_f32(int m, int n, int k, const float *x, const float *w, float *y, int ldy) {
#ifdef CS_X86
    if (have_avx2()) { small_f32_avx2(m, n, k, x, w, 0, y, ldy); return; }
#endif
    small_f32_generic(m, n, k, x, w, y, ldy);
}

void cs_small_matmul_i8(int m, int n, int k, const float *x, const int8_t *q, const float *scales, float *y, int ldy) {
#ifdef CS_X86
    if (have_avx2()) { small_i8_avx2(m, n, k, x, q, scales, y, ldy); return; }
#endif
    small_i8_generic(m, n, k, x, q, scales, y, ldy);
}

#include "ckernels.h"
#include <stdlib.h>
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

/* ---- int8-weight GEMM for batches: y = (x quantised per row to int16) · (int8 W)ᵀ, exact int32 sums ----
 * x: [m, k] fp32 (row stride ldx); q: [n, k] int8 with row scales sw[n]; y: [m, n] (row stride ldy).
 * Each x row is scaled to integers of magnitude <= xmax with xmax chosen so that no int32 sum can
 * overflow: k * xmax * 127 < 2^31 (and xmax <= 16383, so a vpmaddwd pair sum fits too). */

static int gemm_xmax(int k) {
    long bound = 2147483647L / ((long)k * 127);
    return bound > 16383 ? 16383 : (int)bound;
}

/* Quantises rows of x to int16; returns the per-row dequantisation scales in sx. */
static void quantize_rows_i16(int m, int k, const float *x, int ldx, int16_t *xq, float *sx, int xmax) {
    for (int i = 0; i < m; i++) {
        const float *row = x + (long)i * ldx;
        float amax = 0;
        for (int t = 0; t < k; t++) { float a = row[t] < 0 ? -row[t] : row[t]; if (a > amax) amax = a; }
        float scale = amax > 0 ? amax / (float)xmax : 1.0f;
        float inv = 1.0f / scale;
        for (int t = 0; t < k; t++) {
            float v = row[t] * inv;
            xq[(long)i * k + t] = (int16_t)(v < 0 ? v - 0.5f : v + 0.5f);
        }
        sx[i] = scale;
    }
}

/* Plain-loop reference over already-quantised rows. */
static void gemm_i16_i8_generic(int m, int n, int k, const int16_t *xq, const float *sx,
                                const int8_t *q, const float *sw, float *y, int ldy) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            int32_t s = 0;
            for (int t = 0; t < k; t++) s += (int32_t)xq[(long)i * k + t] * (int32_t)q[(long)j * k + t];
            y[(long)i * ldy + j] = (float)s * sx[i] * sw[j];
        }
}

#ifdef CS_X86
__attribute__((target("avx2"))) static inline int32_t hsum256_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/* Blocks of 4 x rows × 2 W rows; rows of x in blocks of MB so that they stay in L2 while all of W passes.
 * Inner step: 16 int8 weights sign-extended to int16, vpmaddwd with 16 int16 activations. */
__attribute__((target("avx2"))) static void gemm_i16_i8_avx2(int m, int n, int k, const int16_t *xq, const float *sx,
                                                            const int8_t *q, const float *sw, float *y, int ldy) {
    enum { MB = 64 };
    int k16 = k & ~15;
    for (int i0 = 0; i0 < m; i0 += MB) {
        int i1 = m - i0 < MB ? m : i0 + MB;
        for (int j = 0; j < n; j += 2) {
            int nb = n - j < 2 ? n - j : 2;
            const int8_t *w0 = q + (long)j * k, *w1 = q + (long)(j + nb - 1) * k;
            for (int i = i0; i < i1; i += 4) {
                int mb = i1 - i < 4 ? i1 - i : 4;
                const int16_t *x0 = xq + (long)i * k;
                const int16_t *x1 = xq + (long)(i + (mb > 1 ? 1 : 0)) * k;
                const int16_t *x2 = xq + (long)(i + (mb > 2 ? 2 : 0)) * k;
                const int16_t *x3 = xq + (long)(i + (mb > 3 ? 3 : 0)) * k;
                __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00;
                __m256i a20 = a00, a21 = a00, a30 = a00, a31 = a00;
                for (int t = 0; t < k16; t += 16) {
                    __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w0 + t)));
                    __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w1 + t)));
                    __m256i v = _mm256_loadu_si256((const __m256i *)(x0 + t));
                    a00 = _mm256_add_epi32(a00, _mm256_madd_epi16(v, b0)); a01 = _mm256_add_epi32(a01, _mm256_madd_epi16(v, b1));
                    v = _mm256_loadu_si256((const __m256i *)(x1 + t));
                    a10 = _mm256_add_epi32(a10, _mm256_madd_epi16(v, b0)); a11 = _mm256_add_epi32(a11, _mm256_madd_epi16(v, b1));
                    v = _mm256_loadu_si256((const __m256i *)(x2 + t));
                    a20 = _mm256_add_epi32(a20, _mm256_madd_epi16(v, b0)); a21 = _mm256_add_epi32(a21, _mm256_madd_epi16(v, b1));
                    v = _mm256_loadu_si256((const __m256i *)(x3 + t));
                    a30 = _mm256_add_epi32(a30, _mm256_madd_epi16(v, b0)); a31 = _mm256_add_epi32(a31, _mm256_madd_epi16(v, b1));
                }
                int32_t r[4][2] = {{hsum256_epi32(a00), hsum256_epi32(a01)}, {hsum256_epi32(a10), hsum256_epi32(a11)},
                                   {hsum256_epi32(a20), hsum256_epi32(a21)}, {hsum256_epi32(a30), hsum256_epi32(a31)}};
                const int16_t *xs[4] = {x0, x1, x2, x3};
                const int8_t *ws[2] = {w0, w1};
                for (int a = 0; a < mb; a++)
                    for (int b = 0; b < nb; b++) {
                        int32_t s = r[a][b];
                        for (int t = k16; t < k; t++) s += (int32_t)xs[a][t] * (int32_t)ws[b][t];
                        y[(long)(i + a) * ldy + j + b] = (float)s * sx[i + a] * sw[j + b];
                    }
            }
        }
    }
}
#endif

int cs_gemm_i8_weights(int m, int n, int k, const float *x, int ldx, const int8_t *q, const float *sw,
                       float *y, int ldy, int reference) {
    if (m <= 0 || n <= 0 || k <= 0) return 0;
    int16_t *xq = (int16_t *)malloc(sizeof(int16_t) * (size_t)m * (size_t)k);
    float *sx = (float *)malloc(sizeof(float) * (size_t)m);
    if (xq == NULL || sx == NULL) { free(xq); free(sx); return -1; }
    quantize_rows_i16(m, k, x, ldx, xq, sx, gemm_xmax(k));
#ifdef CS_X86
    if (!reference && have_avx2()) gemm_i16_i8_avx2(m, n, k, xq, sx, q, sw, y, ldy);
    else
#endif
        gemm_i16_i8_generic(m, n, k, xq, sx, q, sw, y, ldy);
    free(xq);
    free(sx);
    return 0;
}

/* 7-bit activations × int8 weights on AVX2 without VNNI: vpmaddubsw (u8 × s8 pairs summed to int16),
 * vpmaddwd with ones (pairs of int16 summed to int32), vpaddd.
 *
 * Activations are quantised per row to 7-bit unsigned integers with a zero point (asymmetric: 0..127 over
 * [min(row, 0), max(row, 0)]); weights are int8 (QuantizedWeights writes [−127, 127], but −128 is fine too).
 * A vpmaddubsw pair sum is then at most 2 · 127 · 128 = 32512 < 32767, so it never saturates, and the int32
 * sums are exact (k < 2^31 / (127 · 128) ≈ 132,000).
 * The zero point is removed with per-column weight sums computed when the weights are packed.
 *
 * Outlier channels: transformer activations have a few input channels far larger than the rest (one channel of
 * all-MiniLM-L6-v2's FFN inputs reaches 20–30 where the median channel is about 1), which would set every row's
 * scale. So the `outliers` channels with the largest |x| (over a sample of rows) are taken out of the quantised
 * rows (set to zero, which maps exactly to the zero point) and added back in fp32 in the epilogue:
 *   y[i, j] = sx[i] · sw[j] · (Σ_t xq[i, t] · q[j, t] − zx[i] · Σ_t q[j, t]) + Σ_{u ∈ O} x[i, u] · (q[j, u] · sw[j]).
 *
 * Packed weights: panels of NR = 16 output columns; within a panel, for each group of 4 consecutive k
 * (k padded to a multiple of 4 with zero weights) 16 columns × 4 bytes = 64 bytes, so one 256-bit load gives
 * 8 columns × 4 k. Columns past n are zero. After the panels: the int32 column sums, padded to NR.
 * Blocking: MB rows are quantised at a time into a scratch block (it stays in L2); for each 16-column panel
 * (16·k bytes, in L1 for k ≤ 1536) every 4-row tile runs over the whole k in 8 int32 accumulators. */
#include "ckernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CS_U8_X86 1
#endif

enum { NR = 16, MR = 4, MB = 96 };

static long pad4(long k) { return (k + 3) & ~3L; }
static long padn(long n) { return (n + NR - 1) / NR * NR; }

size_t cs_pack_i8_size(int n, int k) {
    if (n <= 0 || k <= 0) return 0;
    return (size_t)(padn(n) * pad4(k) + 4 * padn(n));
}

void cs_pack_i8(int n, int k, const int8_t *q, void *packed) {
    if (n <= 0 || k <= 0) return;
    long k4 = pad4(k), np = padn(n);
    int8_t *dst = (int8_t *)packed;
    int32_t *sums = (int32_t *)(dst + np * k4);
    for (long j0 = 0; j0 < np; j0 += NR) {
        int8_t *panel = dst + j0 * k4;
        for (long c = 0; c < NR; c++) {
            long j = j0 + c;
            int32_t s = 0;
            for (long t = 0; t < k4; t++) {
                int8_t v = j < n && t < k ? q[j * k + t] : 0;
                panel[(t >> 2) * (NR * 4) + c * 4 + (t & 3)] = v;
                s += v;
            }
            sums[j] = s;
        }
    }
}

/* The scale and zero point of one row: [min(row, 0), max(row, 0)] onto 0..127; zero maps exactly to z. */
static void row_range(float lo, float hi, float *scale, float *inv, int *z) {
    float s = hi > lo ? (hi - lo) / 127.0f : 1.0f;
    float v = 1.0f / s;
    int zp = (int)(-lo * v + 0.5f);
    *scale = s;
    *inv = v;
    *z = zp < 0 ? 0 : zp > 127 ? 127 : zp;
}

/* One value: round half up of v·inv + z (truncation of a sum that is ≥ 0 up to rounding), clamped to 0..127. */
static inline uint8_t quantize_one(float v, float inv, float zf) {
    int u = (int)(v * inv + zf);
    return (uint8_t)(u < 0 ? 0 : u > 127 ? 127 : u);
}

void cs_quantize_rows_u7(int m, int k, const float *x, int ldx, const float *mask, uint8_t *xq, int ldq, float *sx,
                         int32_t *zx) {
    for (long i = 0; i < m; i++) {
        const float *row = x + i * ldx;
        float lo = 0, hi = 0;
        for (long t = 0; t < k; t++) {
            float v = mask ? row[t] * mask[t] : row[t];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        float scale, inv;
        int z;
        row_range(lo, hi, &scale, &inv, &z);
        float zf = (float)z + 0.5f;
        uint8_t *out = xq + i * ldq;
        for (long t = 0; t < k; t++) out[t] = quantize_one(mask ? row[t] * mask[t] : row[t], inv, zf);
        for (long t = k; t < pad4(k); t++) out[t] = (uint8_t)z;
        sx[i] = scale;
        zx[i] = z;
    }
}

int cs_select_outliers(int m, int k, const float *x, int ldx, int count, int32_t *channels) {
    if (count > k) count = k;
    if (count <= 0 || m <= 0) return 0;
    float *mx = (float *)malloc(sizeof(float) * (size_t)k);
    if (mx == NULL) return -1;
    for (long t = 0; t < k; t++) mx[t] = 0;
    long stride = m / 64 > 1 ? m / 64 : 1;
    for (long i = 0; i < m; i += stride) {
        const float *row = x + i * ldx;
        for (long t = 0; t < k; t++) {
            float a = row[t] < 0 ? -row[t] : row[t];
            mx[t] = a > mx[t] ? a : mx[t];
        }
    }
    for (int u = 0; u < count; u++) {  /* count ≤ 16: repeated arg-max, lowest index first on ties */
        long best = -1;
        for (long t = 0; t < k; t++) {
            int taken = 0;
            for (int v = 0; v < u; v++) taken |= channels[v] == t;
            if (!taken && (best < 0 || mx[t] > mx[best])) best = t;
        }
        channels[u] = (int32_t)best;
    }
    free(mx);
    return count;
}

void cs_gemm_u8s8_i32_reference(int m, int n, int k, const uint8_t *xq, int ldq, const int8_t *q, int32_t *c, int ldc) {
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            int32_t s = 0;
            for (long t = 0; t < k; t++) s += (int32_t)xq[i * ldq + t] * (int32_t)q[j * k + t];
            c[i * ldc + j] = s;
        }
}

#ifdef CS_U8_X86
static int u8_have_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2");
    }
    return cached;
}

/* cs_quantize_rows_u7 in AVX2, bitwise equal to it (the same float operations; no FMA: its target has none,
 * and it is not inlined into the FMA-enabled caller, where a compiler could contract v·inv + z). */
__attribute__((target("avx2"), noinline)) static void quantize_rows_u7_avx2(int m, int k, const float *x, int ldx, const float *mask,
                                                                 uint8_t *xq, int ldq, float *sx, int32_t *zx) {
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i top = _mm256_set1_epi8(127);
    for (long i = 0; i < m; i++) {
        const float *row = x + i * ldx;
        __m256 vlo = _mm256_setzero_ps(), vhi = vlo;
        long t = 0;
        for (; t + 8 <= k; t += 8) {
            __m256 v = _mm256_mul_ps(_mm256_loadu_ps(row + t), _mm256_loadu_ps(mask + t));
            vlo = _mm256_min_ps(vlo, v);
            vhi = _mm256_max_ps(vhi, v);
        }
        float l8[8], h8[8];
        _mm256_storeu_ps(l8, vlo);
        _mm256_storeu_ps(h8, vhi);
        float lo = 0, hi = 0;
        for (int e = 0; e < 8; e++) { lo = l8[e] < lo ? l8[e] : lo; hi = h8[e] > hi ? h8[e] : hi; }
        for (; t < k; t++) { float v = row[t] * mask[t]; lo = v < lo ? v : lo; hi = v > hi ? v : hi; }
        float scale, inv;
        int z;
        row_range(lo, hi, &scale, &inv, &z);
        float zf = (float)z + 0.5f;
        __m256 vinv = _mm256_set1_ps(inv), vz = _mm256_set1_ps(zf);
        uint8_t *out = xq + i * ldq;
        t = 0;
#define CONVERT(o) _mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(row + t + o), \
                                                   _mm256_loadu_ps(mask + t + o)), vinv), vz))
        for (; t + 32 <= k; t += 32) {
            __m256i a = CONVERT(0), b = CONVERT(8), c = CONVERT(16), d = CONVERT(24);
            /* The saturating packs clamp below at 0 (an out-of-range conversion, INT_MIN, too); min clamps at 127. */
            __m256i u = _mm256_packus_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
            u = _mm256_min_epu8(_mm256_permutevar8x32_epi32(u, order), top);
            _mm256_storeu_si256((__m256i *)(out + t), u);
        }
#undef CONVERT
        for (; t < k; t++) out[t] = quantize_one(row[t] * mask[t], inv, zf);
        for (t = k; t < pad4(k); t++) out[t] = (uint8_t)z;
        sx[i] = scale;
        zx[i] = z;
    }
}

static inline int32_t load4(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }

/* One row of a tile for one group of 4 k: 4 activations broadcast, then for each 8-column half
 * acc += vpmaddwd(vpmaddubsw(x, b), 1). */
#define STEP(r)                                                                                             \
    do {                                                                                                    \
        __m256i xv = _mm256_set1_epi32(load4(a##r + 4 * p));                                               \
        acc##r##0 = _mm256_add_epi32(acc##r##0, _mm256_madd_epi16(_mm256_maddubs_epi16(xv, b0), ones));     \
        acc##r##1 = _mm256_add_epi32(acc##r##1, _mm256_madd_epi16(_mm256_maddubs_epi16(xv, b1), ones));     \
    } while (0)

/* out[r][h] (r < 4 rows, h = 0/1 the two 8-column halves of the panel) = Σ_t a_r[t] · panel column.
 * Not inlined: as a function of its own the 8 accumulators stay in registers (clang spilled them when
 * this was inlined into the blocking loops). */
__attribute__((target("avx2"), noinline)) static void micro_4x16(long kq, const uint8_t *a0, const uint8_t *a1,
        const uint8_t *a2, const uint8_t *a3, const int8_t *b, __m256i out[MR][2]) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc00 = _mm256_setzero_si256(), acc01 = acc00, acc10 = acc00, acc11 = acc00;
    __m256i acc20 = acc00, acc21 = acc00, acc30 = acc00, acc31 = acc00;
    for (long p = 0; p < kq; p++) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + 64 * p));
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 64 * p + 32));
        STEP(0); STEP(1); STEP(2); STEP(3);
    }
    out[0][0] = acc00; out[0][1] = acc01; out[1][0] = acc10; out[1][1] = acc11;
    out[2][0] = acc20; out[2][1] = acc21; out[3][0] = acc30; out[3][1] = acc31;
}

/* micro_4x16 for rows 0..mb (mb ≤ 4; missing rows repeat row 0) of a block with row stride lda. */
__attribute__((target("avx2"))) static inline void tile(long kq, const uint8_t *rows, long lda, long mb, const int8_t *panel,
                                                       __m256i acc[MR][2]) {
    const uint8_t *a1 = rows + (mb > 1 ? lda : 0), *a2 = rows + (mb > 2 ? 2 * lda : 0), *a3 = rows + (mb > 3 ? 3 * lda : 0);
    micro_4x16(kq, rows, a1, a2, a3, panel, acc);
}

/* Raw sums c[i, j] = Σ_t xq[i, t] · q[j, t] (any padding bytes of xq are fine: the padded weights are zero). */
__attribute__((target("avx2"))) static void gemm_i32_avx2(int m, int n, int k, const uint8_t *xq, int ldq,
                                                         const int8_t *packed, int32_t *c, int ldc) {
    long k4 = pad4(k), kq = k4 / 4, np = padn(n);
    for (long i0 = 0; i0 < m; i0 += MB) {
        long i1 = m - i0 < MB ? m : i0 + MB;
        for (long j0 = 0; j0 < np; j0 += NR) {
            const int8_t *panel = packed + j0 * k4;
            long nb = n - j0 < NR ? n - j0 : NR;
            for (long i = i0; i < i1; i += MR) {
                long mb = i1 - i < MR ? i1 - i : MR;
                __m256i acc[MR][2];
                tile(kq, xq + i * ldq, ldq, mb, panel, acc);
                for (long r = 0; r < mb; r++) {
                    int32_t tmp[NR];
                    _mm256_storeu_si256((__m256i *)tmp, acc[r][0]);
                    _mm256_storeu_si256((__m256i *)(tmp + 8), acc[r][1]);
                    memcpy(c + (i + r) * ldc + j0, tmp, sizeof(int32_t) * (size_t)nb);
                }
            }
        }
    }
}

/* The float product: per block of MB rows, quantise them into buf (outlier channels masked to zero), then
 * every panel × every 4-row tile; epilogue y = sx · sw · (acc − zx · colsum) + Σ_u x[i, o_u] · wo[u, j],
 * where wo: [nout + 1, np] holds the outlier channels' dequantised weights, then the weight scales sw, and
 * xo: [MB, CS_MAX_OUTLIERS] is scratch for the block's outlier values. */
__attribute__((target("avx2,fma"))) static void gemm_f32_avx2(int m, int n, int k, const float *x, int ldx,
                                                         const int8_t *packed, float *y, int ldy,
                                                         const float *mask, int nout, const int32_t *outl, const float *wo,
                                                         uint8_t *buf, float *sx, int32_t *zx, float *xo) {
    long k4 = pad4(k), kq = k4 / 4, np = padn(n);
    const int32_t *colsum = (const int32_t *)(packed + np * k4);
    for (long i0 = 0; i0 < m; i0 += MB) {
        long i1 = m - i0 < MB ? m : i0 + MB;
        quantize_rows_u7_avx2((int)(i1 - i0), k, x + i0 * ldx, ldx, mask, buf, (int)k4, sx, zx);
        for (long i = i0; i < i1; i++)
            for (int u = 0; u < nout; u++) xo[(i - i0) * CS_MAX_OUTLIERS + u] = x[i * ldx + outl[u]];
        for (long j0 = 0; j0 < np; j0 += NR) {
            const int8_t *panel = packed + j0 * k4;
            long nb = n - j0 < NR ? n - j0 : NR;
            __m256i cs0 = _mm256_loadu_si256((const __m256i *)(colsum + j0));
            __m256i cs1 = _mm256_loadu_si256((const __m256i *)(colsum + j0 + 8));
            __m256 sw0 = _mm256_loadu_ps(wo + (long)nout * np + j0), sw1 = _mm256_loadu_ps(wo + (long)nout * np + j0 + 8);
            for (long i = i0; i < i1; i += MR) {
                long mb = i1 - i < MR ? i1 - i : MR;
                __m256i acc[MR][2];
                tile(kq, buf + (i - i0) * k4, k4, mb, panel, acc);
                for (long r = 0; r < mb; r++) {
                    __m256i z = _mm256_set1_epi32(zx[i - i0 + r]);
                    __m256 s = _mm256_set1_ps(sx[i - i0 + r]);
                    __m256i d0 = _mm256_sub_epi32(acc[r][0], _mm256_mullo_epi32(z, cs0));
                    __m256i d1 = _mm256_sub_epi32(acc[r][1], _mm256_mullo_epi32(z, cs1));
                    __m256 v0 = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(d0), s), sw0);
                    __m256 v1 = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(d1), s), sw1);
                    const float *xr = xo + (i - i0 + r) * CS_MAX_OUTLIERS, *wu = wo + j0;
                    for (int u = 0; u < nout; u++, wu += np) {
                        __m256 xb = _mm256_broadcast_ss(xr + u);
                        v0 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(wu), v0);
                        v1 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(wu + 8), v1);
                    }
                    float *dst = y + (i + r) * ldy + j0;
                    if (nb == NR) {
                        _mm256_storeu_ps(dst, v0);
                        _mm256_storeu_ps(dst + 8, v1);
                    } else {
                        float tmp[NR];
                        _mm256_storeu_ps(tmp, v0);
                        _mm256_storeu_ps(tmp + 8, v1);
                        memcpy(dst, tmp, sizeof(float) * (size_t)nb);
                    }
                }
            }
        }
    }
}
#endif

int cs_gemm_u8s8_i32(int m, int n, int k, const uint8_t *xq, int ldq, const void *packed, int32_t *c, int ldc) {
#ifdef CS_U8_X86
    if (!u8_have_avx2()) return 0;
    if (m > 0 && n > 0 && k > 0) gemm_i32_avx2(m, n, k, xq, ldq, (const int8_t *)packed, c, ldc);
    return 1;
#else
    (void)m; (void)n; (void)k; (void)xq; (void)ldq; (void)packed; (void)c; (void)ldc;
    return 0;
#endif
}

/* Plain loop: the same quantisation and the same epilogue arithmetic, in the same order (so the results are
 * bitwise equal); wo as in gemm_f32_avx2 with row stride n. */
static void gemm_f32_reference(int m, int n, int k, const float *x, int ldx, const int8_t *q, const float *sw,
                               float *y, int ldy, const float *mask, int nout, const int32_t *outl, const float *wo,
                               uint8_t *buf, int32_t *sums) {
    long k4 = pad4(k);
    for (long j = 0; j < n; j++) {
        int32_t s = 0;
        for (long t = 0; t < k; t++) s += q[j * k + t];
        sums[j] = s;
    }
    int32_t *c = sums + n;
    for (long i = 0; i < m; i++) {
        float sx;
        int32_t zx;
        cs_quantize_rows_u7(1, k, x + i * ldx, ldx, mask, buf, (int)k4, &sx, &zx);
        cs_gemm_u8s8_i32_reference(1, n, k, buf, (int)k4, q, c, n);
        for (long j = 0; j < n; j++) {
            float v = ((float)(c[j] - zx * sums[j]) * sx) * sw[j];
            for (int u = 0; u < nout; u++) {
                v = fmaf(x[i * ldx + outl[u]], wo[(long)u * n + j], v);  /* one rounding, as vfmadd */
            }
            y[i * ldy + j] = v;
        }
    }
}

int cs_gemm_u8s8(int m, int n, int k, const float *x, int ldx, const void *packed, const int8_t *q, const float *sw,
                 float *y, int ldy, int outliers, int reference) {
    if (m <= 0 || n <= 0 || k <= 0) return 0;
    long k4 = pad4(k), np = padn(n);
    int fast = 0;
#ifdef CS_U8_X86
    fast = !reference && packed != NULL && u8_have_avx2();
#endif
    if (!fast && q == NULL) return -2;
    if (outliers > CS_MAX_OUTLIERS) outliers = CS_MAX_OUTLIERS;
    int32_t outl[CS_MAX_OUTLIERS];
    int nout = cs_select_outliers(m, k, x, ldx, outliers, outl);
    if (nout < 0) return -1;
    long ldw = fast ? np : n;  /* wo: [nout, ldw] outlier weights, then (fast) the scales padded to np */
    uint8_t *buf = (uint8_t *)malloc((size_t)((fast ? MB : 1) * k4));
    float *sx = (float *)malloc(sizeof(float) * MB * (1 + CS_MAX_OUTLIERS));  /* then xo */
    int32_t *zx = (int32_t *)malloc(sizeof(int32_t) * MB);
    float *mask = (float *)malloc(sizeof(float) * (size_t)k);
    float *wo = (float *)malloc(sizeof(float) * (size_t)((nout + 1) * ldw));
    int32_t *sums = fast ? NULL : (int32_t *)malloc(sizeof(int32_t) * 2 * (size_t)n);
    if (buf == NULL || sx == NULL || zx == NULL || mask == NULL || wo == NULL || (!fast && sums == NULL)) {
        free(buf); free(sx); free(zx); free(mask); free(wo); free(sums);
        return -1;
    }
    for (long t = 0; t < k; t++) mask[t] = 1.0f;
    for (int u = 0; u < nout; u++) mask[outl[u]] = 0.0f;
    for (int u = 0; u < nout; u++) {
        long t = outl[u];
        for (long j = 0; j < ldw; j++) {
            int8_t w = 0;
            if (j < n)
                w = fast ? ((const int8_t *)packed)[(j / NR) * NR * k4 + (t >> 2) * (NR * 4) + (j % NR) * 4 + (t & 3)] : q[j * k + t];
            wo[u * ldw + j] = j < n ? (float)w * sw[j] : 0.0f;
        }
    }
    for (long j = 0; j < ldw; j++) wo[(long)nout * ldw + j] = j < n ? sw[j] : 0.0f;
#ifdef CS_U8_X86
    if (fast) gemm_f32_avx2(m, n, k, x, ldx, (const int8_t *)packed, y, ldy, mask, nout, outl, wo, buf, sx, zx, sx + MB);
    else
#endif
        gemm_f32_reference(m, n, k, x, ldx, q, sw, y, ldy, mask, nout, outl, wo, buf, sums);
    free(buf); free(sx); free(zx); free(mask); free(wo); free(sums);
    return 0;
}

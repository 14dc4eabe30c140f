#ifndef CODESAGE_CKERNELS_H
#define CODESAGE_CKERNELS_H
#include <stddef.h>
#include <stdint.h>

/* Small-m matrix products without packing (for single queries), row-major:
 *   y[i*ldy + j] = sum_t x[i*k + t] * w[j*k + t]                       (fp32 weights)
 *   y[i*ldy + j] = scales[j] * sum_t x[i*k + t] * (float)q[j*k + t]     (int8 weights)
 * for 0 <= i < m, 0 <= j < n. AVX2+FMA code chosen at run time (function-level target
 * attributes, no build flags), portable C otherwise. */
void cs_small_matmul_f32(int m, int n, int k, const float *x, const float *w, float *y, int ldy);
void cs_small_matmul_i8(int m, int n, int k, const float *x, const int8_t *q, const float *scales, float *y, int ldy);
/* Batch product with int8 weights: y[i*ldy + j] = sw[j] * sx[i] * sum_t xq[i,t] * q[j*k + t], where xq is row i
 * of x (stride ldx) quantised to int16 with its own scale sx[i], chosen so that the int32 sums cannot
 * overflow. AVX2 vpmaddwd unless `reference` is non-zero (the plain loop). Returns -1 if out of memory. */
int cs_gemm_i8_weights(int m, int n, int k, const float *x, int ldx, const int8_t *q, const float *sw,
                       float *y, int ldy, int reference);
/* ---- 7-bit activations x int8 weights over packed weights (gemm_u8s8.c) ----
 * y[i*ldy + j] = sx[i] * sw[j] * sum_{t not in O} (xq[i,t] - zx[i]) * q[j*k + t] + sum_{u in O} x[i,u] * (q[j*k + u] * sw[j])
 * where O are the `outliers` input channels with the largest |x| (cs_select_outliers), row i of x (stride
 * ldx) without them is quantised to 7-bit unsigned integers xq in [0, 127] with zero point zx[i] and scale
 * sx[i] (cs_quantize_rows_u7), and q: [n, k] int8 with row scales sw[n]. The AVX2 kernel (vpmaddubsw,
 * vpmaddwd with ones, vpaddd; 4 rows x 16 columns per register block) reads W packed by cs_pack_i8; its
 * int32 sums are exact (a vpmaddubsw pair is at most 2 * 127 * 128 < 32767; no overflow for k < 132,000). */

/* Most outlier channels cs_gemm_u8s8 takes out of the quantised rows. */
#define CS_MAX_OUTLIERS 16

/* Bytes of the packed form of q: [n, k] (panels of 16 columns x k padded to 4, then n padded to 16
 * int32 column sums); 0 if n or k is not positive. */
size_t cs_pack_i8_size(int n, int k);
/* Packs q: [n, k] int8 into `packed` (cs_pack_i8_size(n, k) bytes; 64-byte alignment is best, not required). */
void cs_pack_i8(int n, int k, const int8_t *q, void *packed);
/* Quantises rows of x: [m, k] (stride ldx), each element times mask[t] (mask may be NULL: all ones), to
 * xq: [m, ldq] (ldq >= k rounded up to 4; the padding holds the zero point), x ~ sx[i] * (xq - zx[i]);
 * [min(row, 0), max(row, 0)] maps to 0..127 and 0 exactly to zx[i]. */
void cs_quantize_rows_u7(int m, int k, const float *x, int ldx, const float *mask, uint8_t *xq, int ldq, float *sx,
                         int32_t *zx);
/* The min(count, k) channels of x: [m, k] with the largest max |x| over every (m / 64)-th row (all rows when
 * m < 128), largest first, lowest index first on ties, into channels. Returns how many, or -1 if out of memory. */
int cs_select_outliers(int m, int k, const float *x, int ldx, int count, int32_t *channels);
/* Raw integer sums c[i*ldc + j] = sum_t xq[i*ldq + t] * q[j*k + t] with the AVX2 kernel over packed weights
 * (xq in [0, 127]). Returns 1 if it ran, 0 if AVX2 is not available (then c is not written). */
int cs_gemm_u8s8_i32(int m, int n, int k, const uint8_t *xq, int ldq, const void *packed, int32_t *c, int ldc);
/* The same sums with a plain loop over the unpacked q: [n, k]. */
void cs_gemm_u8s8_i32_reference(int m, int n, int k, const uint8_t *xq, int ldq, const int8_t *q, int32_t *c, int ldc);
/* The float product above with min(outliers, CS_MAX_OUTLIERS) outlier channels: the AVX2 kernel over
 * `packed` unless `reference` is non-zero or AVX2 is missing, else the plain loop over the unpacked q (both
 * give bitwise equal results). Either pointer may be NULL when its path is not taken. Returns 0, -1 if out
 * of memory, -2 if the needed q is NULL. */
int cs_gemm_u8s8(int m, int n, int k, const float *x, int ldx, const void *packed, const int8_t *q, const float *sw,
                 float *y, int ldy, int outliers, int reference);
/* Whether the AVX2+FMA versions are in use. */
int cs_kernels_have_avx2(void);

#endif

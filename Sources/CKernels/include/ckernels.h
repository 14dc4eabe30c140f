#ifndef CODESAGE_CKERNELS_H
#define CODESAGE_CKERNELS_H
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
/* Whether the AVX2+FMA versions are in use. */
int cs_kernels_have_avx2(void);

#endif

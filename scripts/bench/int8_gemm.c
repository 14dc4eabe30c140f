/* Kernel benchmark for the int8 batch products (scripts/bench-int8-gemm): OpenBLAS cblas_sgemm against the
 * int16 × int8 vpmaddwd kernel (cs_gemm_i8_weights) and the 7-bit × int8 vpmaddubsw kernel over packed weights
 * (cs_gemm_u8s8, with 0 and 4 outlier channels), single-threaded, on the encoder's shapes. First checks the
 * u8s8 kernel against its plain loop on odd shapes: int32 sums and float results must be identical. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ckernels.h"

void openblas_set_num_threads(int);

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static unsigned long long state = 88172645463325252ULL;
static unsigned long long rnd(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; }
static float frand(void) { return (float)((rnd() >> 40) / (double)(1 << 24)) * 2 - 1; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

/* Symmetric per-row int8, as QuantizedWeights writes it. */
static void quantize_weights(int n, int k, const float *w, int8_t *q, float *s) {
    for (long j = 0; j < n; j++) {
        float mx = 0;
        for (long t = 0; t < k; t++) mx = fmaxf(mx, fabsf(w[j * k + t]));
        s[j] = mx > 0 ? mx / 127 : 1;
        for (long t = 0; t < k; t++) q[j * k + t] = (int8_t)fmaxf(-127, fminf(127, roundf(w[j * k + t] / s[j])));
    }
}

static void *packed_weights(int n, int k, const int8_t *q) {
    void *p = aligned_alloc(64, (cs_pack_i8_size(n, k) + 63) / 64 * 64);
    cs_pack_i8(n, k, q, p);
    return p;
}

/* Returns non-zero on a mismatch. */
static int check(int m, int n, int k) {
    int k4 = (k + 3) & ~3;
    float *x = malloc(4L * m * k), *w = malloc(4L * n * k), *sw = malloc(4L * n), *y1 = malloc(4L * m * n), *y2 = malloc(4L * m * n);
    int8_t *q = malloc((size_t)n * k);
    uint8_t *xq = malloc((size_t)m * k4);
    int32_t *c1 = malloc(4L * m * n), *c2 = malloc(4L * m * n);
    for (long i = 0; i < (long)m * k; i++) x[i] = frand() * 3 + (i % k == k / 3 ? 25.0f : 0.0f);  /* one outlier channel */
    for (long i = 0; i < (long)n * k; i++) w[i] = i < k ? 1.0f : frand();  /* row 0 all 127: the saturation bound */
    quantize_weights(n, k, w, q, sw);
    void *pk = packed_weights(n, k, q);
    for (long i = 0; i < (long)m * k4; i++) xq[i] = (rnd() & 3) == 0 ? 127 : (uint8_t)(rnd() & 127);
    cs_gemm_u8s8_i32(m, n, k, xq, k4, pk, c1, n);
    cs_gemm_u8s8_i32_reference(m, n, k, xq, k4, q, c2, n);
    long maxd = 0;
    for (long i = 0; i < (long)m * n; i++) maxd = labs((long)c1[i] - c2[i]) > maxd ? labs((long)c1[i] - c2[i]) : maxd;
    int differ = 0;
    double err[3] = {0, 0, 0}, top = 0;
    for (int o = 0; o < 3; o++) {
        cs_gemm_u8s8(m, n, k, x, k, pk, NULL, sw, y1, n, 4 * o, 0);
        cs_gemm_u8s8(m, n, k, x, k, NULL, q, sw, y2, n, 4 * o, 1);
        differ |= memcmp(y1, y2, 4L * m * n) != 0;
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) {
                double s = 0;
                for (long t = 0; t < k; t++) s += (double)x[i * k + t] * q[j * k + t] * sw[j];
                err[o] = fmax(err[o], fabs(s - y1[i * n + j]));
                top = fmax(top, fabs(s));
            }
    }
    printf("check m=%d n=%d k=%d: max |int32 fast - plain| = %ld, float results %s; max abs error vs fp32 "
           "(0/4/8 outliers) %.3g/%.3g/%.3g of max |y| %.3g\n", m, n, k, maxd, differ ? "DIFFER" : "identical",
           err[0], err[1], err[2], top);
    free(x); free(w); free(sw); free(y1); free(y2); free(q); free(xq); free(c1); free(c2); free(pk);
    return maxd != 0 || differ;
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    if (reps < 1 || reps > 64) reps = 5;
    openblas_set_num_threads(1);
    int odd[][3] = {{1, 1, 1}, {7, 13, 37}, {3, 7, 5}, {17, 33, 9}, {5, 16, 4}, {4, 17, 3}, {65, 70, 385}, {97, 31, 130}, {70, 1536, 384}, {9, 384, 1536}};
    int bad = 0;
    for (unsigned s = 0; s < sizeof odd / sizeof odd[0]; s++) bad |= check(odd[s][0], odd[s][1], odd[s][2]);
    if (bad) { printf("MISMATCH\n"); return 1; }
    int ms[] = {8192, 2048}, nk[][2] = {{1152, 384}, {384, 384}, {1536, 384}, {384, 1536}};
    printf("single thread, median of %d, side by side\n", reps);
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 4; b++) {
            int m = ms[a], n = nk[b][0], k = nk[b][1];
            float *x = malloc(4L * m * k), *w = malloc(4L * n * k), *sw = malloc(4L * n), *y = malloc(4L * m * n);
            int8_t *q = malloc((size_t)n * k);
            for (long i = 0; i < (long)m * k; i++) x[i] = frand();
            for (long i = 0; i < (long)n * k; i++) w[i] = frand();
            quantize_weights(n, k, w, q, sw);
            void *pk = packed_weights(n, k, q);
            double t[4][64];
            for (int r = 0; r < reps; r++) {
                double t0 = now();
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, x, k, w, k, 0, y, n);
                double t1 = now();
                cs_gemm_i8_weights(m, n, k, x, k, q, sw, y, n, 0);
                double t2 = now();
                cs_gemm_u8s8(m, n, k, x, k, pk, NULL, sw, y, n, 0, 0);
                double t3 = now();
                cs_gemm_u8s8(m, n, k, x, k, pk, NULL, sw, y, n, 4, 0);
                double t4 = now();
                t[0][r] = t1 - t0; t[1][r] = t2 - t1; t[2][r] = t3 - t2; t[3][r] = t4 - t3;
            }
            double med[4];
            for (int i = 0; i < 4; i++) { qsort(t[i], reps, sizeof(double), cmpd); med[i] = t[i][reps / 2] * 1e3; }
            double g = 2.0 * m * n * k / 1e6;
            printf("m=%5d n=%4d k=%4d  sgemm %7.2f ms (%5.1f GFLOP/s)  int16 %7.2f ms  u8s8 %7.2f ms (%5.1f GOP/s, %.2fx sgemm)"
                   "  u8s8+4 outliers %7.2f ms (%.2fx sgemm, %.2fx int16)\n", m, n, k, med[0], g / med[0], med[1], med[2],
                   g / med[2], med[0] / med[2], med[3], med[0] / med[3], med[1] / med[3]);
            fflush(stdout);
            free(x); free(w); free(sw); free(y); free(q); free(pk);
        }
    return 0;
}

/* Micro-benchmark driver of benchmarks/kernels.py: one integer convolution, optimized and reference
 * (the reference built with its functions renamed ref_wn_conv_...), each run REPS times between
 * marker functions that the instruction counter (wncc/counting.py) brackets.
 *
 *   kernels_bench FAMILY CIN COUT KERNEL REPS     FAMILY: s8 | s8s16 | s16 | s4; KERNEL 1:
 *                                                 wn_conv_X (pointwise), > 1: wn_conv_ring_X,
 *                                                 dilation 1
 * Build with -DWN_BENCH_S8 / -DWN_BENCH_S8S16 / -DWN_BENCH_S16 / -DWN_BENCH_S4 for the families
 * linked in. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wn_runtime.h"

#define W_MAX (256 * 256 * 3)
#define X_MAX (512 * 4)
#define COUT_MAX 512

/* markers: distinct bodies, so identical-code folding cannot merge them into one address */
volatile int32_t wn_bench_marker;
__attribute__((noinline)) void wn_bench_opt_begin(void) { wn_bench_marker = 1; }
__attribute__((noinline)) void wn_bench_opt_end(void) { wn_bench_marker = 2; }
__attribute__((noinline)) void wn_bench_ref_begin(void) { wn_bench_marker = 3; }
__attribute__((noinline)) void wn_bench_ref_end(void) { wn_bench_marker = 4; }

static int8_t w8[W_MAX], x8[X_MAX], ring8[X_MAX], y8[COUT_MAX];
static int16_t w16[W_MAX], x16[X_MAX], ring16[X_MAX], y16[COUT_MAX];
static int32_t bias32[COUT_MAX], mult[COUT_MAX];
static int8_t shift[COUT_MAX];
static int64_t bias64[COUT_MAX];

#define WN_REF_DECLS(sfx, wt, xt)                                                                \
    void ref_wn_conv_##sfx(xt *y, const xt *x, const wt *w, const wn_rq *q, int32_t cin,          \
                           int32_t cout);                                                         \
    void ref_wn_conv_ring_##sfx(xt *y, xt *ring, int32_t *pos, const xt *x, const wt *w,         \
                                const wn_rq *q, int32_t cin, int32_t cout, int32_t kernel,       \
                                int32_t dilation, int32_t ring_len);
WN_REF_DECLS(s8, int8_t, int8_t)
WN_REF_DECLS(s4, uint8_t, int8_t)
WN_REF_DECLS(s8s16, int8_t, int16_t)
WN_REF_DECLS(s16, int16_t, int16_t)

/* for FAMILY sfx: REPS calls of the optimized kernel, then REPS of the reference, each between
 * its markers; then PASS and exit */
#define WN_BENCH(sfx, wt, w, x, ring, y, bias)                                                   \
    if (strcmp(family, #sfx) == 0) {                                                             \
        const wn_rq q = {bias, mult, shift, 0, (int32_t)sizeof(bias[0]), 1};                     \
        int32_t r, pos = 0;                                                                      \
        wn_bench_opt_begin();                                                                    \
        for (r = 0; r < reps; ++r) {                                                             \
            if (kernel == 1) {                                                                   \
                wn_conv_##sfx(y, x, (const wt *)w, &q, cin, cout);                               \
            } else {                                                                             \
                wn_conv_ring_##sfx(y, ring, &pos, x, (const wt *)w, &q, cin, cout, kernel, 1,    \
                                   kernel);                                                      \
            }                                                                                    \
        }                                                                                        \
        wn_bench_opt_end();                                                                      \
        wn_bench_ref_begin();                                                                    \
        for (r = 0; r < reps; ++r) {                                                             \
            if (kernel == 1) {                                                                   \
                ref_wn_conv_##sfx(y, x, (const wt *)w, &q, cin, cout);                           \
            } else {                                                                             \
                ref_wn_conv_ring_##sfx(y, ring, &pos, x, (const wt *)w, &q, cin, cout, kernel,   \
                                       1, kernel);                                               \
            }                                                                                    \
        }                                                                                        \
        wn_bench_ref_end();                                                                      \
        printf("PASS\n");                                                                        \
        return 0;                                                                                \
    }

int main(int argc, char **argv)
{
    const char *family = argc > 5 ? argv[1] : "";
    const int32_t cin = argc > 5 ? atoi(argv[2]) : 0, cout = argc > 5 ? atoi(argv[3]) : 0;
    const int32_t kernel = argc > 5 ? atoi(argv[4]) : 0, reps = argc > 5 ? atoi(argv[5]) : 0;
    uint32_t seed = 12345u;
    int32_t i;
    if (cin < 1 || cout < 1 || cout > COUT_MAX || kernel < 1 || reps < 1
        || cout * kernel * cin > W_MAX || kernel * cin > X_MAX) {
        printf("usage: kernels_bench s8|s8s16|s16|s4 CIN COUT KERNEL REPS (sizes within the buffers)\n");
        return 2;
    }
    for (i = 0; i < W_MAX; ++i) {
        seed = seed * 1664525u + 1013904223u;
        w8[i] = (int8_t)(seed >> 24);
        w16[i] = (int16_t)(seed >> 16);
    }
    for (i = 0; i < X_MAX; ++i) {
        x8[i] = ring8[i] = (int8_t)w8[i + 7];
        x16[i] = ring16[i] = (int16_t)(w8[i + 11] * 200);
    }
    for (i = 0; i < COUT_MAX; ++i) {
        bias32[i] = bias64[i] = 1000 * (i - 100);
        mult[i] = 1518500250; /* sqrt(1/2) in Q31 */
        shift[i] = -12;
    }
    (void)w16, (void)x16, (void)ring16, (void)y16, (void)bias64, (void)x8, (void)ring8, (void)y8,
        (void)bias32;
#ifdef WN_BENCH_S8
    WN_BENCH(s8, int8_t, w8, x8, ring8, y8, bias32)
#endif
#ifdef WN_BENCH_S8S16
    WN_BENCH(s8s16, int8_t, w8, x16, ring16, y16, bias64)
#endif
#ifdef WN_BENCH_S16
    WN_BENCH(s16, int16_t, w16, x16, ring16, y16, bias64)
#endif
#ifdef WN_BENCH_S4
    WN_BENCH(s4, uint8_t, w8, x8, ring8, y8, bias32)
#endif
    printf("family '%s' not built in\n", family);
    return 2;
}

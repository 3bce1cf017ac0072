#include "wn_runtime.h"
#include "wn_requant.h"

/* The conditioning network's integer row kernels (wncc/ops/depthwise.py): int8 weights, the
 * input zero point folded into the bias at compile time, so acc = bias[ch] + sum_j w * x, then
 * out = clamp(requant(acc) + zp_out) with the channel's parameters (wn_rq). */

/* y[ch] from x[j * step + ch], j = 0 .. kernel-1: int8 activations, int32 accumulators */
void wn_dwconv_s8(int8_t *y, const int8_t *x, const int8_t *w, const wn_rq *qp, int32_t c,
                  int32_t kernel, int32_t step)
{
    const wn_rq rq = *qp, *q = &rq;
    int32_t ch, j;
    for (ch = 0; ch < c; ++ch) {
        int32_t acc = (int32_t)wn_rq_bias(q, ch);
        for (j = 0; j < kernel; ++j) {
            acc += (int32_t)w[(size_t)ch * (size_t)kernel + (size_t)j] *
                   (int32_t)x[(size_t)j * (size_t)step + (size_t)ch];
        }
        y[ch] = (int8_t)wn_rq_out8(acc, q, ch);
    }
}

/* the same with int16 activations and int64 accumulators (the reduced-multiplier requant) */
void wn_dwconv_s8s16(int16_t *y, const int16_t *x, const int8_t *w, const wn_rq *qp, int32_t c,
                     int32_t kernel, int32_t step)
{
    const wn_rq rq = *qp, *q = &rq;
    int32_t ch, j;
    for (ch = 0; ch < c; ++ch) {
        int64_t acc = wn_rq_bias(q, ch);
        for (j = 0; j < kernel; ++j) {
            acc += (int64_t)w[(size_t)ch * (size_t)kernel + (size_t)j] *
                   (int64_t)x[(size_t)j * (size_t)step + (size_t)ch];
        }
        y[ch] = (int16_t)wn_rq_out16(acc, q, ch);
    }
}

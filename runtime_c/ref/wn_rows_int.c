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

/* transposed convolutions whose rows sum 1 .. ceil(kernel / stride) taps (fewer at the edges):
 * the input zero point cannot be folded into the bias, so acc = bias + sum w * (x - zp_in).
 * Input rows m = 0 .. n-1 ascending (x + m * ldx), tap t0 - m * stride. */

/* one kernel per channel: w [c][kernel] */
void wn_dwconvt_s8(int8_t *y, const int8_t *x, int32_t n, int32_t t0, int32_t stride,
                   const int8_t *w, const wn_rq *qp, int32_t zp_in, int32_t c, int32_t kernel,
                   int32_t ldx)
{
    const wn_rq rq = *qp, *q = &rq;
    int32_t ch, m;
    for (ch = 0; ch < c; ++ch) {
        int32_t acc = (int32_t)wn_rq_bias(q, ch);
        for (m = 0; m < n; ++m) {
            acc += (int32_t)w[(size_t)ch * (size_t)kernel + (size_t)(t0 - m * stride)] *
                   ((int32_t)x[(size_t)m * (size_t)ldx + (size_t)ch] - zp_in);
        }
        y[ch] = (int8_t)wn_rq_out8(acc, q, ch);
    }
}

/* dense: w [kernel][cin][cout] */
void wn_convt_row_s8(int8_t *y, const int8_t *x, int32_t n, int32_t t0, int32_t stride,
                     const int8_t *w, const wn_rq *qp, int32_t zp_in, int32_t cin, int32_t cout,
                     int32_t kernel, int32_t ldx)
{
    const wn_rq rq = *qp, *q = &rq;
    int32_t i, o, m;
    (void)kernel;
    for (o = 0; o < cout; ++o) {
        int32_t acc = (int32_t)wn_rq_bias(q, o);
        for (m = 0; m < n; ++m) {
            const int8_t *wt = w + (size_t)(t0 - m * stride) * (size_t)cin * (size_t)cout;
            const int8_t *xm = x + (size_t)m * (size_t)ldx;
            for (i = 0; i < cin; ++i) {
                acc += (int32_t)wt[(size_t)i * (size_t)cout + (size_t)o] * ((int32_t)xm[i] - zp_in);
            }
        }
        y[o] = (int8_t)wn_rq_out8(acc, q, o);
    }
}

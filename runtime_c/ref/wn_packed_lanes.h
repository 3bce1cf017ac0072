/* The driver of the lane layouts (wncc/ops/layout.py "vnni", "sdot"): output channels in the
 * int32 lanes of the ISA's accumulator vector, blocks taken in passes of up to WN_PASS whose
 * accumulators stay in registers. A kernel file defines, before including this header:
 *
 *   WN_INLINE              static inline, always inlined
 *   WN_ACC                 the accumulator vector type
 *   WN_LANES, WN_PASS      channels per block (the vector's int32 lanes), blocks per pass
 *   wn_conv_lanes_bias(b)  the accumulator holding the WN_LANES int32 biases at b
 *   wn_conv_lanes_segment(acc, nb, w, x, n)   acc[0..nb) += the pass's products with the input
 *                          segment x[0..n); returns the weights after it
 *   wn_conv_lanes_store(y, acc, q, c, rows)   y[c..c+rows) from the accumulator of channels c..
 *
 * (inline functions: each pass size below is a constant where they are inlined, so the
 * accumulator array becomes registers). */
#ifndef WN_PACKED_LANES_H
#define WN_PACKED_LANES_H

#include "wn_packed.h"

/* the rows of one pass (nb blocks from channel o) over `segments` inputs of n values */
WN_INLINE const int8_t *wn_conv_lanes_pass(int8_t *y, const int8_t *const *seg, int32_t segments,
                                           int32_t n, const int8_t *w, const wn_rq *q,
                                           int32_t o, int32_t nb, int32_t cout)
{
    WN_ACC acc[WN_PASS];
    int32_t b, k;
    for (b = 0; b < nb; ++b) {
        acc[b] = wn_conv_lanes_bias((const int32_t *)q->bias + o + WN_LANES * b);
    }
    for (k = 0; k < segments; ++k) {
        w = wn_conv_lanes_segment(acc, nb, w, seg[k], n);
    }
    for (b = 0; b < nb; ++b) {
        const int32_t c = o + WN_LANES * b;
        wn_conv_lanes_store(y, acc[b], q, c, cout - c < WN_LANES ? cout - c : WN_LANES);
    }
    return w;
}

/* every pass; the pass size is a constant in each call, so its loops unroll into registers */
static void wn_conv_lanes(int8_t *y, const int8_t *const *seg, int32_t segments, int32_t n,
                          const int8_t *w, const wn_rq *q, int32_t cout)
{
    const int32_t blocks = (cout + WN_LANES - 1) / WN_LANES;
    int32_t o;
    for (o = 0; o < blocks * WN_LANES; o += WN_PASS * WN_LANES) {
        switch ((blocks - o / WN_LANES) < WN_PASS ? blocks - o / WN_LANES : WN_PASS) {
        case 8: w = wn_conv_lanes_pass(y, seg, segments, n, w, q, o, 8, cout); break;
        case 7: w = wn_conv_lanes_pass(y, seg, segments, n, w, q, o, 7, cout); break;
        case 6: w = wn_conv_lanes_pass(y, seg, segments, n, w, q, o, 6, cout); break;
        case 5: w = wn_conv_lanes_pass(y, seg, segments, n, w, q, o, 5, cout); break;
        case 4: w = wn_conv_lanes_pass(y, seg, segments, n, w, q, o, 4, cout); break;
        case 3: w = wn_conv_lanes_pass(y, seg, segments, n, w, q, o, 3, cout); break;
        case 2: w = wn_conv_lanes_pass(y, seg, segments, n, w, q, o, 2, cout); break;
        default: w = wn_conv_lanes_pass(y, seg, segments, n, w, q, o, 1, cout); break;
        }
    }
}

/* a ring step of a lane layout: the taps are its segments */
static void wn_conv_lanes_ring(int8_t *y, int8_t *ring, int32_t *pos, const int8_t *x,
                               const int8_t *w, const wn_rq *q, int32_t cin, int32_t cout,
                               int32_t kernel, int32_t dilation, int32_t ring_len)
{
    const int8_t *taps[WN_PACKED_TAPS];
    wn_packed_taps(taps, ring, pos, x, cin, kernel, dilation, ring_len);
    wn_conv_lanes(y, taps, kernel, cin, w, q, cout);
}

#endif

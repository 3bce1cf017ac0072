/* The driver of the lane layouts (wncc/ops/layout.py "vnni", "sdot"): output channels in the
 * int32 lanes of the ISA's accumulator vector, blocks taken in passes of up to 8 whose
 * accumulators stay in registers. A kernel file defines, before including this header:
 *
 *   WN_INLINE              static inline, always inlined
 *   WN_ACC, WN_QUAD        the accumulator vector type; a quad of 4 activations, as the ISA's
 *                          multiply-accumulate takes it (broadcast to every lane)
 *   WN_LANES, WN_BLOCK     channels per block (the vector's int32 lanes); a block's weight bytes
 *                          for one quad (WN_LANES x 4)
 *   wn_lanes_broadcast(v)  the quad whose 4 activations are the bytes of the int32 v (memory
 *                          order), as the multiply-accumulate takes it
 *   wn_lanes_mac(acc, xq, w)   acc + the products of the block's weights at w with the quad
 *   wn_conv_lanes_bias(b)  the accumulator holding the WN_LANES int32 biases at b
 *   wn_conv_lanes_store(y, acc, q, c, rows)   y[c..c+rows) from the accumulator of channels c..
 *
 * The eight accumulators are named variables, not an array: gcc kept an array of them in memory
 * (a store per multiply-accumulate) where its loop over the segments was not unrolled. Each pass
 * size is a constant where the pass is inlined, so the unused accumulators vanish. */
#ifndef WN_PACKED_LANES_H
#define WN_PACKED_LANES_H

#include "wn_packed.h"

#include <string.h>

#define WN_PASS 8 /* blocks per pass: a0..a7 */

/* the quad x[0..4) */
WN_INLINE WN_QUAD wn_lanes_quad(const int8_t *x)
{
    int32_t v;
    memcpy(&v, x, 4);
    return wn_lanes_broadcast(v);
}

/* the quad of the last n < 4 activations x[0..n); the bytes after them are 0 (not read) */
WN_INLINE WN_QUAD wn_lanes_quad_tail(const int8_t *x, int32_t n)
{
    int32_t v = 0;
    memcpy(&v, x, (size_t)n);
    return wn_lanes_broadcast(v);
}

/* one quad into the first nb accumulators, the block weights at w */
#define WN_LANES_MACS(xq, w)                                                       \
    do {                                                                           \
        a0 = wn_lanes_mac(a0, (xq), (w));                                          \
        if (nb > 1) { a1 = wn_lanes_mac(a1, (xq), (w) + WN_BLOCK); }               \
        if (nb > 2) { a2 = wn_lanes_mac(a2, (xq), (w) + 2 * WN_BLOCK); }           \
        if (nb > 3) { a3 = wn_lanes_mac(a3, (xq), (w) + 3 * WN_BLOCK); }           \
        if (nb > 4) { a4 = wn_lanes_mac(a4, (xq), (w) + 4 * WN_BLOCK); }           \
        if (nb > 5) { a5 = wn_lanes_mac(a5, (xq), (w) + 5 * WN_BLOCK); }           \
        if (nb > 6) { a6 = wn_lanes_mac(a6, (xq), (w) + 6 * WN_BLOCK); }           \
        if (nb > 7) { a7 = wn_lanes_mac(a7, (xq), (w) + 7 * WN_BLOCK); }           \
    } while (0)

/* block i's output rows: the channels of cout it holds */
#define WN_LANES_ROWS(i) \
    (cout - (o + WN_LANES * (i)) < WN_LANES ? cout - (o + WN_LANES * (i)) : WN_LANES)

/* the rows of one pass (nb blocks from channel o) over `segments` inputs of n values */
WN_INLINE const int8_t *wn_conv_lanes_pass(int8_t *y, const int8_t *const *seg, int32_t segments,
                                           int32_t n, const int8_t *w, const wn_rq *q,
                                           int32_t o, int32_t nb, int32_t cout)
{
    const int32_t *bias = (const int32_t *)q->bias + o;
    const WN_ACC b0 = wn_conv_lanes_bias(bias);
    WN_ACC a0 = b0, a1 = b0, a2 = b0, a3 = b0, a4 = b0, a5 = b0, a6 = b0, a7 = b0;
    int32_t k, j;
    if (nb > 1) { a1 = wn_conv_lanes_bias(bias + WN_LANES); }
    if (nb > 2) { a2 = wn_conv_lanes_bias(bias + 2 * WN_LANES); }
    if (nb > 3) { a3 = wn_conv_lanes_bias(bias + 3 * WN_LANES); }
    if (nb > 4) { a4 = wn_conv_lanes_bias(bias + 4 * WN_LANES); }
    if (nb > 5) { a5 = wn_conv_lanes_bias(bias + 5 * WN_LANES); }
    if (nb > 6) { a6 = wn_conv_lanes_bias(bias + 6 * WN_LANES); }
    if (nb > 7) { a7 = wn_conv_lanes_bias(bias + 7 * WN_LANES); }
    for (k = 0; k < segments; ++k) {
        const int8_t *x = seg[k];
        for (j = 0; j + 4 <= n; j += 4, w += nb * WN_BLOCK) {
            const WN_QUAD xq = wn_lanes_quad(x + j);
            WN_LANES_MACS(xq, w);
        }
        if (j < n) {
            const WN_QUAD xq = wn_lanes_quad_tail(x + j, n - j);
            WN_LANES_MACS(xq, w);
            w += nb * WN_BLOCK;
        }
    }
    wn_conv_lanes_store(y, a0, q, o, WN_LANES_ROWS(0));
    if (nb > 1) { wn_conv_lanes_store(y, a1, q, o + WN_LANES, WN_LANES_ROWS(1)); }
    if (nb > 2) { wn_conv_lanes_store(y, a2, q, o + 2 * WN_LANES, WN_LANES_ROWS(2)); }
    if (nb > 3) { wn_conv_lanes_store(y, a3, q, o + 3 * WN_LANES, WN_LANES_ROWS(3)); }
    if (nb > 4) { wn_conv_lanes_store(y, a4, q, o + 4 * WN_LANES, WN_LANES_ROWS(4)); }
    if (nb > 5) { wn_conv_lanes_store(y, a5, q, o + 5 * WN_LANES, WN_LANES_ROWS(5)); }
    if (nb > 6) { wn_conv_lanes_store(y, a6, q, o + 6 * WN_LANES, WN_LANES_ROWS(6)); }
    if (nb > 7) { wn_conv_lanes_store(y, a7, q, o + 7 * WN_LANES, WN_LANES_ROWS(7)); }
    return w;
}

#undef WN_LANES_MACS
#undef WN_LANES_ROWS

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

/* The parts every packed int8 convolution shares (runtime_c/avx512_vnni/wn_conv_vnni_s8.c,
 * runtime_c/dsp/wn_conv_dsp4_s8.c, runtime_c/mve/wn_conv_mve4_s8.c; layouts in
 * wncc/ops/layout.py): the ring step that hands each tap to the kernel as one input segment, and
 * the driver of the 4-row layouts. */
#ifndef WN_PACKED_H
#define WN_PACKED_H

#include <stdint.h>
#include <string.h>

#include "wn_runtime.h"
#include "wn_requant.h"
#include "wn_ring.h"

#define WN_PACKED_TAPS 16 /* the most taps of a packed ring convolution (wncc/passes/packing.py) */

/* one step of a ring convolution (wn_ring.h): x goes into the next row, and taps[k] (oldest
 * first) is the row of tap k */
static inline void wn_packed_taps(const int8_t *taps[WN_PACKED_TAPS], int8_t *ring, int32_t *pos,
                                  const int8_t *x, int32_t cin, int32_t kernel, int32_t dilation,
                                  int32_t ring_len)
{
    const int32_t p = wn_ring_advance(pos, ring_len);
    int32_t k;
    memcpy(ring + (size_t)p * (size_t)cin, x, (size_t)cin);
    for (k = 0; k < kernel; ++k) {
        taps[k] = ring + (size_t)wn_ring_tap(p, k, kernel, dilation, ring_len) * (size_t)cin;
    }
}

/* wn_rq_out8 of channel c (per-channel tables). Single rounding with shift <= -1, as nearly every
 * layer has, in 32-bit arithmetic: with t = -1 - shift and h = floor(acc * mult / 2^32), the
 * product's high word (SMMUL), floor((acc * mult + 2^(30 - shift)) / 2^(31 - shift)) is
 * (h + 2^(t - 1)) >> t for t >= 1 (the low word, below 2^32, cannot carry the sum past a
 * multiple of 2^t; h + 2^(t - 1) < 2^31) and the rounded high word for t = 0; that value is below
 * 2^30 in magnitude, so adding the zero point and clamping to int8 equals wn_clamp_zp. Other
 * cases go through wn_rq_out8. */
static inline int8_t wn_packed_out8(int32_t acc, const wn_rq *q, int32_t c)
{
#if WN_SINGLE_ROUNDING
    const int32_t shift = q->shift[c];
    if (shift <= -1) {
        const int32_t t = -1 - shift, mult = q->mult[c];
        const int32_t r = t == 0 ? (int32_t)(((int64_t)acc * mult + ((int64_t)1 << 31)) >> 32)
                                 : ((int32_t)(((int64_t)acc * mult) >> 32) + (1 << (t - 1))) >> t;
        const int32_t v = r + q->zp_out;
        return (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
    }
#endif
    return (int8_t)wn_rq_out8(acc, q, c);
}

#ifndef WN_HAVE_PACKED_OUT4
/* y[0..rows) of one block of 4 channels from c on (an ISA may requantize the four in vector
 * lanes: define WN_HAVE_PACKED_OUT4 and this function before including this header) */
static inline void wn_packed_out4(int8_t *y, const int32_t acc[4], const wn_rq *q, int32_t c,
                                  int32_t rows)
{
    int32_t r;
    for (r = 0; r < rows; ++r) {
        y[r] = wn_packed_out8(acc[r], q, c + r);
    }
}
#endif

/* an ISA's step of a 4-row layout: acc[0..3] += the block's products with the segment x[0..n),
 * returning the weights after it */
typedef const int8_t *(*wn_segment4)(int32_t acc[4], const int8_t *w, const int8_t *x, int32_t n);

/* y[0..cout) of a 4-row layout: per block of 4 rows the biases, every segment through `step`,
 * the requantization (wn_packed_out4). The tables are padded to whole blocks (int32 biases,
 * per-channel multipliers and shifts: wncc/ops/layout.py packed_entries), so a block's four
 * are read without tests; a padded row is not stored. */
static inline void wn_packed_blocks4(int8_t *y, const int8_t *const *seg, int32_t segments,
                                     int32_t n, const int8_t *w, const wn_rq *qp, int32_t cout,
                                     wn_segment4 step)
{
    const wn_rq rq = *qp, *q = &rq; /* a copy: int8 stores may alias *qp */
    const int32_t *bias = (const int32_t *)q->bias;
    int32_t o, k;
    for (o = 0; o < cout; o += 4) {
        int32_t acc[4];
        acc[0] = bias[o];
        acc[1] = bias[o + 1];
        acc[2] = bias[o + 2];
        acc[3] = bias[o + 3];
        for (k = 0; k < segments; ++k) {
            w = step(acc, w, seg[k], n);
        }
        wn_packed_out4(y + o, acc, q, o, cout - o < 4 ? cout - o : 4);
    }
}

/* the pointwise convolution and the ring step of a 4-row layout (the ISA file's public
 * functions call these with its step) */
static inline void wn_packed_conv4(int8_t *y, const int8_t *x, const int8_t *w, const wn_rq *q,
                                   int32_t cin, int32_t cout, wn_segment4 step)
{
    wn_packed_blocks4(y, &x, 1, cin, w, q, cout, step);
}

static inline void wn_packed_ring4(int8_t *y, int8_t *ring, int32_t *pos, const int8_t *x,
                                   const int8_t *w, const wn_rq *q, int32_t cin, int32_t cout,
                                   int32_t kernel, int32_t dilation, int32_t ring_len,
                                   wn_segment4 step)
{
    const int8_t *taps[WN_PACKED_TAPS];
    wn_packed_taps(taps, ring, pos, x, cin, kernel, dilation, ring_len);
    wn_packed_blocks4(y, taps, kernel, cin, w, q, cout, step);
}

#endif

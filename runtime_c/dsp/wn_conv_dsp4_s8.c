/* int8 convolutions for the Armv7E-M DSP extension over weights packed at compile time
 * (wncc/ops/layout.py, layout "dsp4"): four output channels at a time, their weights
 * interleaved word by word ([segment][word][row][4 bytes]), so one pointer walks them all and
 * each word of the input is loaded and sign-extended once for the four rows.
 *
 * Rows are padded with zero rows to whole blocks of 4 and each input segment (a ring
 * convolution's tap, a pointwise one's input) with zero weights to whole words. The input past a
 * segment's end is not read: the last word is assembled from the bytes that exist, zero above.
 * Sums are exact (SMLAD adds two 16 x 16 products into the int32 accumulator, as the reference's
 * int32 sum), so the outputs equal the reference kernels' (runtime_c/ref/wn_conv_s8.c) bit for
 * bit; the biases and the requantization are the reference's (wn_rq, wn_rq_out8). */
#include "wn_runtime.h"
#include "wn_dot.h"
#include "wn_packed.h"

#define WN_ROWS 4

/* the four rows' products with one word of the input, xv: a0..a3 gain them */
#define WN_WORD_STEP(xv)                                                                         \
    do {                                                                                         \
        const int32_t x02 = __sxtb16(xv), x13 = wn_sxtb16_ror8(xv);                              \
        int32_t u = (int32_t)wn_read32(w);                                                       \
        a0 = __smlad(__sxtb16(u), x02, a0);                                                      \
        a0 = __smlad(wn_sxtb16_ror8(u), x13, a0);                                                \
        u = (int32_t)wn_read32(w + 4);                                                           \
        a1 = __smlad(__sxtb16(u), x02, a1);                                                      \
        a1 = __smlad(wn_sxtb16_ror8(u), x13, a1);                                                \
        u = (int32_t)wn_read32(w + 8);                                                           \
        a2 = __smlad(__sxtb16(u), x02, a2);                                                      \
        a2 = __smlad(wn_sxtb16_ror8(u), x13, a2);                                                \
        u = (int32_t)wn_read32(w + 12);                                                          \
        a3 = __smlad(__sxtb16(u), x02, a3);                                                      \
        a3 = __smlad(wn_sxtb16_ror8(u), x13, a3);                                                \
        w += 4 * WN_ROWS;                                                                        \
    } while (0)

/* acc[0..3] += the block's products with the segment x[0..n); returns the weights after it */
static inline const int8_t *wn_block_segment(int32_t acc[WN_ROWS], const int8_t *w,
                                             const int8_t *x, int32_t n)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], words;
    for (words = n >> 2; words > 0; --words, x += 4) {
        const int32_t xv = (int32_t)wn_read32(x);
        WN_WORD_STEP(xv);
    }
    if (n & 3) { /* the last 1..3 bytes, zero above (padded weights meet them) */
        uint32_t v = 0;
        int32_t b;
        for (b = 0; b < (n & 3); ++b) {
            v |= (uint32_t)(uint8_t)x[b] << (8 * b);
        }
        WN_WORD_STEP((int32_t)v);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    return w;
}

/* pointwise (1x1) convolution of one time step */
void wn_conv_dsp4_s8(int8_t *y, const int8_t *x, const int8_t *w, const wn_rq *q, int32_t cin,
                     int32_t cout)
{
    wn_packed_conv4(y, x, w, q, cin, cout, wn_block_segment);
}

/* one step of a causal dilated convolution over a ring buffer (wn_ring.h) */
void wn_conv_ring_dsp4_s8(int8_t *y, int8_t *ring, int32_t *pos, const int8_t *x,
                          const int8_t *w, const wn_rq *q, int32_t cin, int32_t cout,
                          int32_t kernel, int32_t dilation, int32_t ring_len)
{
    wn_packed_ring4(y, ring, pos, x, w, q, cin, cout, kernel, dilation, ring_len,
                    wn_block_segment);
}

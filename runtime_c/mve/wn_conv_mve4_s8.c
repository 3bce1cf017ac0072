/* int8 convolutions for Helium (MVE) over weights packed at compile time (wncc/ops/layout.py,
 * layout "mve4"): four output channels at a time, their weights interleaved vector by vector
 * ([segment][16 bytes][row][16]), so one pointer walks them all and each 16 bytes of the input
 * are loaded once for the four rows' VMLADAVAs.
 *
 * Rows are padded with zero rows to whole blocks of 4 and each input segment (a ring
 * convolution's tap, a pointwise one's input) with zero weights to whole vectors; the input's
 * last vector is a predicated load, which reads nothing past the segment and gives 0 there.
 * VMLADAVA adds sixteen products into the int32 accumulator modulo 2^32, exact wherever the
 * reference's int32 sum is (runtime_c/mve/wn_dot_mve.h), so the outputs equal the reference
 * kernels' bit for bit; the biases and the requantization are the reference's. */
#include <arm_mve.h>
#include <string.h>

#include "wn_runtime.h"
#include "wn_requant.h"

#if WN_SINGLE_ROUNDING
#define WN_HAVE_PACKED_OUT4
static inline int8_t wn_packed_out8(int32_t acc, const wn_rq *q, int32_t c);

/* the four channels of a block requantized in vector lanes when all four shifts are <= -1 (as
 * nearly every layer's are): VQDMULH gives h = floor(acc * mult / 2^31) (it saturates only
 * for two INT32_MIN operands; multipliers are positive), and VRSHL by the shift, a rounding
 * right shift by -shift, gives floor((h + 2^(-1 - shift)) / 2^-shift), which is single
 * rounding's floor((acc * mult + 2^(30 - shift)) / 2^(31 - shift)): acc * mult / 2^31 is h plus
 * a fraction below 1, which cannot carry the sum past a multiple of 2^-shift. The value is below
 * 2^30 in magnitude, so adding the zero point and clamping to int8 is wn_clamp_zp. Other
 * blocks go channel by channel (wn_packed_out8). */
static inline void wn_packed_out4(int8_t *y, const int32_t acc[4], const wn_rq *q, int32_t c,
                                  int32_t rows)
{
    const int32x4_t shift = vldrbq_s32(q->shift + c);
    int32_t r;
    if (vcmpgtq_n_s32(shift, -1) == 0) {
        const int32x4_t v = vrshlq_s32(vqdmulhq_s32(vldrwq_s32(acc), vldrwq_s32(q->mult + c)),
                                       shift);
        const int32x4_t out = vminq_s32(vmaxq_s32(vaddq_n_s32(v, q->zp_out), vdupq_n_s32(-128)),
                                        vdupq_n_s32(127));
        vstrbq_p_s32(y, out, vctp32q((uint32_t)rows));
        return;
    }
    for (r = 0; r < rows; ++r) {
        y[r] = wn_packed_out8(acc[r], q, c + r);
    }
}
#endif

#include "wn_packed.h"

#define WN_ROWS 4

/* acc[0..3] += the block's products with the segment x[0..n); returns the weights after it */
static inline const int8_t *wn_block_segment(int32_t acc[WN_ROWS], const int8_t *w,
                                             const int8_t *x, int32_t n)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int8x16_t xv;
    for (; n >= 16; n -= 16, x += 16, w += 16 * WN_ROWS) { /* whole vectors, unpredicated */
        xv = vldrbq_s8(x);
        a0 = vmladavaq_s8(a0, vldrbq_s8(w), xv);
        a1 = vmladavaq_s8(a1, vldrbq_s8(w + 16), xv);
        a2 = vmladavaq_s8(a2, vldrbq_s8(w + 32), xv);
        a3 = vmladavaq_s8(a3, vldrbq_s8(w + 48), xv);
    }
    if (n > 0) { /* the last 1..15 inputs: a predicated load, 0 past the end */
        xv = vldrbq_z_s8(x, vctp8q((uint32_t)n));
        a0 = vmladavaq_s8(a0, vldrbq_s8(w), xv);
        a1 = vmladavaq_s8(a1, vldrbq_s8(w + 16), xv);
        a2 = vmladavaq_s8(a2, vldrbq_s8(w + 32), xv);
        a3 = vmladavaq_s8(a3, vldrbq_s8(w + 48), xv);
        w += 16 * WN_ROWS;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    return w;
}

/* pointwise (1x1) convolution of one time step */
void wn_conv_mve4_s8(int8_t *y, const int8_t *x, const int8_t *w, const wn_rq *q, int32_t cin,
                     int32_t cout)
{
    wn_packed_conv4(y, x, w, q, cin, cout, wn_block_segment);
}

/* one step of a causal dilated convolution over a ring buffer (wn_ring.h) */
void wn_conv_ring_mve4_s8(int8_t *y, int8_t *ring, int32_t *pos, const int8_t *x,
                          const int8_t *w, const wn_rq *q, int32_t cin, int32_t cout,
                          int32_t kernel, int32_t dilation, int32_t ring_len)
{
    wn_packed_ring4(y, ring, pos, x, w, q, cin, cout, kernel, dilation, ring_len,
                    wn_block_segment);
}

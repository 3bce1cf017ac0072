/* int8 convolutions for AArch64 with the dot product extension over weights packed at compile time
 * (wncc/ops/layout.py, layout "sdot"): the output channels lie in the 4 int32 lanes of a vector,
 * so a layer needs no horizontal sum and requantizes 4 channels at a time.
 *
 * Layout. Rows (output channels) are padded with zero rows to whole blocks of 4 and the blocks
 * taken in passes of up to 8 (the accumulators of a pass stay in registers). Each input segment (a
 * ring convolution's tap, a pointwise one's input) is padded with zero weights to whole quads of 4.
 * A pass stores, for each segment, for each quad, for each of its blocks, 4 rows x 4 bytes: the 16
 * bytes one SDOT multiplies by the quad's 4 activations, broadcast to every lane. The activations
 * past a segment's end are not read (the last quad is assembled from the bytes that exist).
 *
 * SDOT adds four signed 8 x 8 products to each int32 lane modulo 2^32, so an accumulator is the
 * reference's bias + sum w * x wherever that fits an int32, as the reference's own sum must.
 * Requantization (single rounding, every shift of the block <= 0): SQRDMULH for a shift of 0,
 * SQDMULH then SRSHL below (the proof in runtime_c/mve/wn_dot_mve.h's wn_mve_requant4, the same
 * instructions), then the zero point and the int8 clamp; other blocks channel by channel. */
#include <arm_neon.h>
#include <string.h>

#include "wn_runtime.h"
#include "wn_packed.h"

/* inlined into each pass size, where the accumulators become registers (gcc and clang) */
#define WN_INLINE static inline __attribute__((always_inline))

#if !defined(__ARM_FEATURE_DOTPROD)
#error "wn_conv_sdot_s8.c needs the dot product extension (-march=armv8.2-a+dotprod)"
#endif

#define WN_LANES 4  /* output channels per block: the int32 lanes of a vector */
#define WN_BLOCK 16 /* a block's weights for one quad: 4 rows x 4 bytes */
#define WN_ACC int32x4_t
#define WN_QUAD int8x16_t

/* the quad's 4 activations (a word) broadcast to every lane */
WN_INLINE int8x16_t wn_lanes_broadcast(int32_t v)
{
    return vreinterpretq_s8_s32(vdupq_n_s32(v));
}

/* acc + the block's 4 rows x 4 weights at w times the quad */
WN_INLINE int32x4_t wn_lanes_mac(int32x4_t acc, int8x16_t xq, const int8_t *w)
{
    return vdotq_s32(acc, vld1q_s8(w), xq);
}

/* y[c..c+rows) from the accumulator of channels c..c+3 */
WN_INLINE void wn_conv_lanes_store(int8_t *y, int32x4_t acc, const wn_rq *q, int32_t c,
                                   int32_t rows)
{
    int32_t a[WN_LANES], r;
#if WN_SINGLE_ROUNDING
    int8_t s4[WN_LANES];
    memcpy(s4, q->shift + c, sizeof s4);
    {
        const int32x4_t shift = vmovl_s16(vget_low_s16(vmovl_s8(vcreate_s8(
            (uint64_t)(uint8_t)s4[0] | (uint64_t)(uint8_t)s4[1] << 8 |
            (uint64_t)(uint8_t)s4[2] << 16 | (uint64_t)(uint8_t)s4[3] << 24))));
        const int32x4_t mult = vld1q_s32(q->mult + c);
        if (vmaxvq_s32(shift) <= 0) {
            const int32x4_t v = vbslq_s32(vceqzq_s32(shift), vqrdmulhq_s32(acc, mult),
                                          vrshlq_s32(vqdmulhq_s32(acc, mult), shift));
            const int32x4_t o = vminq_s32(vmaxq_s32(vaddq_s32(v, vdupq_n_s32(q->zp_out)),
                                                    vdupq_n_s32(-128)), vdupq_n_s32(127));
            vst1q_s32(a, o);
            for (r = 0; r < rows; ++r) {
                y[c + r] = (int8_t)a[r];
            }
            return;
        }
    }
#endif
    vst1q_s32(a, acc);
    for (r = 0; r < rows; ++r) {
        y[c + r] = wn_packed_out8(a[r], q, c + r);
    }
}

/* the accumulator holding the WN_LANES int32 biases at b */
WN_INLINE int32x4_t wn_conv_lanes_bias(const int32_t *b)
{
    return vld1q_s32(b);
}

#include "wn_packed_lanes.h"

/* pointwise (1x1) convolution of one time step */
void wn_conv_sdot_s8(int8_t *y, const int8_t *x, const int8_t *w, const wn_rq *q, int32_t cin,
                     int32_t cout)
{
    wn_conv_lanes(y, &x, 1, cin, w, q, cout);
}

/* one step of a causal dilated convolution over a ring buffer (wn_ring.h) */
void wn_conv_ring_sdot_s8(int8_t *y, int8_t *ring, int32_t *pos, const int8_t *x,
                          const int8_t *w, const wn_rq *q, int32_t cin, int32_t cout,
                          int32_t kernel, int32_t dilation, int32_t ring_len)
{
    wn_conv_lanes_ring(y, ring, pos, x, w, q, cin, cout, kernel, dilation, ring_len);
}

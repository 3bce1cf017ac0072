/* int8 convolutions for AVX-512 VNNI over weights packed at compile time (wncc/ops/layout.py,
 * pack_lanes): the output channels lie in the 16 int32 lanes of a zmm accumulator, so a layer
 * needs no horizontal sum and requantizes 16 channels at a time.
 *
 * Layout. Rows (output channels) are padded with zero rows to whole blocks of 16 and the
 * blocks taken in passes of up to 8 (the accumulators of a pass stay in registers). The input
 * of a row is `segments` segments of n values (a ring convolution: one per tap, each read from
 * its own ring row; a pointwise one: one), each padded with zero weights to whole quads of 4.
 * A pass stores, for each segment, for each quad, for each of its blocks, 16 rows x 4 bytes: the
 * 64 bytes one VPDPBUSD multiplies by the quad's 4 activations, broadcast to every lane.
 *
 * Arithmetic. VPDPBUSD multiplies unsigned bytes by signed ones: the activations are the biased
 * operand, x ^ 0x80 = x + 128 (0..255), so a row gains sum (x + 128) * w = sum x * w +
 * 128 * sum w, and the compile time took 128 * sum w off the row's bias (modulo 2^32). Every
 * lane operation is exact modulo 2^32, so an accumulator is the reference's bias + sum w * x
 * whenever that fits an int32, which is when the reference's is defined (wn_dot_avx512_vnni.h).
 * Padded weights are 0, whatever the activation bytes they meet; the activations past a
 * segment's end are not read (the last quad is assembled from the bytes that exist).
 *
 * Requantization (single rounding, wn_requant): in 64-bit lanes, even and odd channels apart,
 * floor((acc * mult + 2^(30 - shift)) / 2^(31 - shift)), then clamped to [-128 - zp, 127 - zp]
 * and zp added (wn_clamp_zp; the clamp also does wn_requant's saturation, whose range contains
 * it). Double rounding requantizes the 16 accumulators one by one with wn_rq_out8. */
#include <immintrin.h>

#include "wn_runtime.h"
#include "wn_packed.h"

/* inlined into each pass size, where the accumulators become registers (gcc and clang) */
#define WN_INLINE static inline __attribute__((always_inline))

#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) \
    || !defined(__AVX512VNNI__)
#error "wn_conv_vnni_s8.c needs AVX-512 F, BW, VL, VNNI"
#endif

#define WN_LANES 16 /* output channels per block: the int32 lanes of a zmm */
#define WN_BLOCK 64 /* a block's weights for one quad: 16 rows x 4 bytes */
#define WN_ACC __m512i
#define WN_QUAD __m512i

/* the quad's 4 activations (a little-endian word) plus 128, broadcast to every lane */
WN_INLINE __m512i wn_lanes_broadcast(int32_t v)
{
    return _mm512_xor_si512(_mm512_set1_epi32(v), _mm512_set1_epi8(-128));
}

/* acc + the block's 16 rows x 4 weights at w times the quad */
WN_INLINE __m512i wn_lanes_mac(__m512i acc, __m512i xq, const int8_t *w)
{
    return _mm512_dpbusd_epi32(acc, xq, _mm512_loadu_si512((const void *)w));
}

/* y[o..o+rows-1] from the accumulator of channels o..o+15 */
WN_INLINE void wn_conv_lanes_store(int8_t *y, __m512i acc, const wn_rq *q, int32_t o, int32_t rows)
{
    const __mmask16 keep = (__mmask16)((1u << rows) - 1u);
#if WN_SINGLE_ROUNDING
    const __m512i mult = _mm512_loadu_si512((const void *)(q->mult + o));
    const __m512i shift = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q->shift + o)));
    const __m512i zp = _mm512_set1_epi64(q->zp_out);
    const __m512i lo = _mm512_sub_epi64(_mm512_set1_epi64(-128), zp);
    const __m512i hi = _mm512_sub_epi64(_mm512_set1_epi64(127), zp);
    __m512i half[2];
    int32_t odd;
    for (odd = 0; odd < 2; ++odd) { /* the even channels in the low words, then the odd ones */
        const __m512i a = odd ? _mm512_srli_epi64(acc, 32) : acc;
        const __m512i m = odd ? _mm512_srli_epi64(mult, 32) : mult;
        const __m512i s = odd ? _mm512_srai_epi64(shift, 32)
                              : _mm512_srai_epi64(_mm512_slli_epi64(shift, 32), 32);
        const __m512i round = _mm512_sllv_epi64(_mm512_set1_epi64(1),
                                                _mm512_sub_epi64(_mm512_set1_epi64(30), s));
        const __m512i r = _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epi32(a, m), round),
                                            _mm512_sub_epi64(_mm512_set1_epi64(31), s));
        half[odd] = _mm512_add_epi64(_mm512_min_epi64(_mm512_max_epi64(r, lo), hi), zp);
    }
    _mm_mask_storeu_epi8(y + o, keep, _mm512_cvtepi32_epi8(_mm512_mask_blend_epi32(
        (__mmask16)0xAAAA, half[0], _mm512_slli_epi64(half[1], 32))));
#else
    int32_t a[WN_LANES], r;
    _mm512_storeu_si512((void *)a, acc);
    for (r = 0; r < rows; ++r) {
        y[o + r] = (int8_t)wn_rq_out8(a[r], q, o + r);
    }
    (void)keep;
#endif
}

/* the accumulator holding the WN_LANES int32 biases at b */
WN_INLINE __m512i wn_conv_lanes_bias(const int32_t *b)
{
    return _mm512_loadu_si512((const void *)b);
}

#include "wn_packed_lanes.h"

/* pointwise (1x1) convolution of one time step */
void wn_conv_vnni_s8(int8_t *y, const int8_t *x, const int8_t *w, const wn_rq *q, int32_t cin,
                     int32_t cout)
{
    wn_conv_lanes(y, &x, 1, cin, w, q, cout);
}

/* one step of a causal dilated convolution over a ring buffer (wn_ring.h) */
void wn_conv_ring_vnni_s8(int8_t *y, int8_t *ring, int32_t *pos, const int8_t *x,
                          const int8_t *w, const wn_rq *q, int32_t cin, int32_t cout,
                          int32_t kernel, int32_t dilation, int32_t ring_len)
{
    wn_conv_lanes_ring(y, ring, pos, x, w, q, cin, cout, kernel, dilation, ring_len);
}

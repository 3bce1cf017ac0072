/* neon: the dot products of the integer kernels for this ISA (the project's wn_dot_isa.h includes
 * this for the target; runtime_c/ref/wn_dot.h then skips its portable loops for the dot
 * products defined here; the kernels themselves are the reference ones).
 * Integer sums are exact, so the results equal the reference bit for bit. */
#ifndef WN_DOT_NEON_H
#define WN_DOT_NEON_H

#include <arm_neon.h>
#include <stdint.h>

#if !defined(__ARM_NEON)
#error "runtime_c/neon needs NEON (armv7-a: -mfpu=neon -mfloat-abi=hard; any aarch64)"
#endif


/* the four int32 lanes added (armv7 has no across-vector add) */
static inline int32_t wn_sum_s32x4(int32x4_t v)
{
#if defined(__aarch64__)
    return vaddvq_s32(v);
#else
    const int32x2_t s = vadd_s32(vget_low_s32(v), vget_high_s32(v));
    return vget_lane_s32(vpadd_s32(s, s), 0);
#endif
}

#ifndef WN_HAVE_DOT_S8
#define WN_HAVE_DOT_S8
static inline int32_t wn_dot_s8(const int8_t *w, const int8_t *x, int32_t n)
{
    int32x4_t acc4 = vdupq_n_s32(0);
    int32_t acc, i = 0;
    for (; i + 16 <= n; i += 16) {
        const int8x16_t wv = vld1q_s8(w + i), xv = vld1q_s8(x + i);
        acc4 = vpadalq_s16(acc4, vmull_s8(vget_low_s8(wv), vget_low_s8(xv)));
        acc4 = vpadalq_s16(acc4, vmull_s8(vget_high_s8(wv), vget_high_s8(xv)));
    }
    if (i + 8 <= n) {
        acc4 = vpadalq_s16(acc4, vmull_s8(vld1_s8(w + i), vld1_s8(x + i)));
        i += 8;
    }
    acc = wn_sum_s32x4(acc4);
    for (; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}
#endif

#ifndef WN_HAVE_DOT_S4
#define WN_HAVE_DOT_S4
/* A weight byte holds an even element in its low nibble and the next odd one in its high nibble,
 * so VLD2 splits the activations the same way (val[0] even, val[1] odd) and nothing needs to be
 * interleaved. Shifting a byte left by 4 then arithmetically right by 4 sign-extends the low
 * nibble; the arithmetic shift alone, the high one (both as wn_s4_at's (nibble ^ 8) - 8).
 * A product is at most 8 * 128 = 1024, so two of them share an int16 lane (VMULL + VMLAL)
 * before VPADAL widens into the int32 lanes the reference's sum fits in. */
static inline int32_t wn_dot_s4(const uint8_t *w, int32_t first, const int8_t *x, int32_t n)
{
    int32x4_t acc4 = vdupq_n_s32(0);
    int32_t acc = 0, i = 0;
    const int8_t *wb;
    if ((first & 1) && n > 0) { /* an odd start: its high nibble, then whole bytes */
        acc = wn_s4_at(w, first) * (int32_t)x[0];
        i = 1;
    }
    wb = (const int8_t *)w + ((first + i) >> 1);
    for (; i + 32 <= n; i += 32, wb += 16) {
        const int8x16_t b = vld1q_s8(wb), odd = vshrq_n_s8(b, 4);
        const int8x16_t even = vshrq_n_s8(vshlq_n_s8(b, 4), 4);
        const int8x16x2_t xv = vld2q_s8(x + i);
        acc4 = vpadalq_s16(acc4, vmlal_s8(vmull_s8(vget_low_s8(even), vget_low_s8(xv.val[0])),
                                          vget_low_s8(odd), vget_low_s8(xv.val[1])));
        acc4 = vpadalq_s16(acc4, vmlal_s8(vmull_s8(vget_high_s8(even), vget_high_s8(xv.val[0])),
                                          vget_high_s8(odd), vget_high_s8(xv.val[1])));
    }
    if (i + 16 <= n) {
        const int8x8_t b = vld1_s8(wb), odd = vshr_n_s8(b, 4), even = vshr_n_s8(vshl_n_s8(b, 4), 4);
        const int8x8x2_t xv = vld2_s8(x + i);
        acc4 = vpadalq_s16(acc4, vmlal_s8(vmull_s8(even, xv.val[0]), odd, xv.val[1]));
        i += 16;
    }
    acc += wn_sum_s32x4(acc4);
    return acc + wn_dot_s4_span(w, first, x, i, n);
}
#endif

#ifndef WN_HAVE_DOT_S16
#define WN_HAVE_DOT_S16
/* Each 16 x 16 product fits an int32 lane (at most 2^30), but two may not (2^31 when all four
 * values are -32768), so every VMULL goes straight into int64 lanes with VPADAL: exact for every
 * int16 input and any length. */
static inline int64_t wn_dot_s16(const int16_t *w, const int16_t *x, int32_t n)
{
    int64x2_t acc2 = vdupq_n_s64(0);
    int64_t acc;
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const int16x8_t wv = vld1q_s16(w + i), xv = vld1q_s16(x + i);
        acc2 = vpadalq_s32(acc2, vmull_s16(vget_low_s16(wv), vget_low_s16(xv)));
        acc2 = vpadalq_s32(acc2, vmull_s16(vget_high_s16(wv), vget_high_s16(xv)));
    }
    if (i + 4 <= n) {
        acc2 = vpadalq_s32(acc2, vmull_s16(vld1_s16(w + i), vld1_s16(x + i)));
        i += 4;
    }
    acc = vgetq_lane_s64(acc2, 0) + vgetq_lane_s64(acc2, 1);
    for (; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}
#endif

#ifndef WN_HAVE_DOT_S8S16
#define WN_HAVE_DOT_S8S16
static inline int64_t wn_dot_s8s16(const int8_t *w, const int16_t *x, int32_t n)
{
    int64x2_t acc2 = vdupq_n_s64(0);
    int64_t acc;
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const int16x8_t wv = vmovl_s8(vld1_s8(w + i)), xv = vld1q_s16(x + i);
        const int32x4_t p = vmlal_s16(vmull_s16(vget_low_s16(wv), vget_low_s16(xv)),
                                      vget_high_s16(wv), vget_high_s16(xv));
        acc2 = vpadalq_s32(acc2, p);
    }
    acc = vgetq_lane_s64(acc2, 0) + vgetq_lane_s64(acc2, 1);
    for (; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}
#endif

#endif

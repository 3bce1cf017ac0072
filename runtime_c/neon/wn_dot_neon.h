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

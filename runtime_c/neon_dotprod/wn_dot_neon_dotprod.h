/* neon_dotprod: the dot products of the integer kernels for this ISA (the project's wn_dot_isa.h includes
 * this for the target; runtime_c/ref/wn_dot.h then skips its portable loops for the dot
 * products defined here; the kernels themselves are the reference ones).
 * Integer sums are exact, so the results equal the reference bit for bit. */
#ifndef WN_DOT_NEON_DOTPROD_H
#define WN_DOT_NEON_DOTPROD_H

#include <arm_neon.h>
#include <stdint.h>

#if !defined(__ARM_FEATURE_DOTPROD) || !defined(__aarch64__)
#error "runtime_c/neon_dotprod needs aarch64 with the dot product extension (-march=armv8.2-a+dotprod)"
#endif


#ifndef WN_HAVE_DOT_S8
#define WN_HAVE_DOT_S8
static inline int32_t wn_dot_s8(const int8_t *w, const int8_t *x, int32_t n)
{
    int32x4_t acc4 = vdupq_n_s32(0);
    int32x2_t acc2 = vdup_n_s32(0);
    int32_t acc, i = 0;
    for (; i + 16 <= n; i += 16) {
        acc4 = vdotq_s32(acc4, vld1q_s8(w + i), vld1q_s8(x + i));
    }
    if (i + 8 <= n) {
        acc2 = vdot_s32(acc2, vld1_s8(w + i), vld1_s8(x + i));
        i += 8;
    }
    acc = vaddvq_s32(acc4) + vaddv_s32(acc2);
    for (; i < n; ++i) {
        acc += (int32_t)w[i] * (int32_t)x[i];
    }
    return acc;
}
#endif

#endif

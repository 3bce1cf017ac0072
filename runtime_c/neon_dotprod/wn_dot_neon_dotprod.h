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

#ifndef WN_HAVE_DOT_S4
#define WN_HAVE_DOT_S4
/* As runtime_c/neon's: a weight byte holds an even element (low nibble) and the next odd one
 * (high nibble), VLD2 splits the activations the same way, shifts sign-extend the nibbles; then
 * SDOT instead of VMULL + VPADAL (int32 lanes, products of at most 8 * 128). */
static inline int32_t wn_dot_s4(const uint8_t *w, int32_t first, const int8_t *x, int32_t n)
{
    int32x4_t acc4 = vdupq_n_s32(0);
    int32x2_t acc2 = vdup_n_s32(0);
    int32_t acc = 0, i = 0;
    const int8_t *wb;
    if ((first & 1) && n > 0) { /* an odd start: its high nibble, then whole bytes */
        acc = wn_s4_at(w, first) * (int32_t)x[0];
        i = 1;
    }
    wb = (const int8_t *)w + ((first + i) >> 1);
    for (; i + 32 <= n; i += 32, wb += 16) {
        const int8x16_t b = vld1q_s8(wb);
        const int8x16x2_t xv = vld2q_s8(x + i);
        acc4 = vdotq_s32(acc4, vshrq_n_s8(vshlq_n_s8(b, 4), 4), xv.val[0]);
        acc4 = vdotq_s32(acc4, vshrq_n_s8(b, 4), xv.val[1]);
    }
    if (i + 16 <= n) {
        const int8x8_t b = vld1_s8(wb);
        const int8x8x2_t xv = vld2_s8(x + i);
        acc2 = vdot_s32(acc2, vshr_n_s8(vshl_n_s8(b, 4), 4), xv.val[0]);
        acc2 = vdot_s32(acc2, vshr_n_s8(b, 4), xv.val[1]);
        i += 16;
    }
    acc += vaddvq_s32(acc4) + vaddv_s32(acc2);
    return acc + wn_dot_s4_span(w, first, x, i, n);
}
#endif

#endif

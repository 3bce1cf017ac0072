/* mve: the dot products of the integer kernels for this ISA (the project's wn_dot_isa.h includes
 * this for the target; runtime_c/ref/wn_dot.h then skips its portable loops for the dot
 * products defined here; the kernels themselves are the reference ones).
 * Integer sums are exact, so the results equal the reference bit for bit. */
#ifndef WN_DOT_MVE_H
#define WN_DOT_MVE_H

#include <arm_mve.h>
#include <stdint.h>

#if !defined(__ARM_FEATURE_MVE)
#error "runtime_c/mve needs Helium (-mcpu=cortex-m55)"
#endif


#ifndef WN_HAVE_DOT_S8
#define WN_HAVE_DOT_S8
/* VMLADAVA.S8: sixteen products of at most 128 * 128 = 2^14 added into a 32-bit accumulator.
 * The additions wrap modulo 2^32, so the result is the exact sum whenever that fits an int32,
 * which is the reference's own bound (its int32 loop may not overflow): n <= 131071 holds any
 * inputs (131071 * 2^14 < 2^31), and longer rows as far as the reference's sum fits.
 * Whole vectors unpredicated (as in wn_dot_s4), then one predicated tail. */
static inline int32_t wn_dot_s8(const int8_t *w, const int8_t *x, int32_t n)
{
    int32_t acc = 0;
    for (; n >= 16; n -= 16, w += 16, x += 16) {
        acc = vmladavaq_s8(acc, vldrbq_s8(w), vldrbq_s8(x));
    }
    if (n > 0) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        acc = vmladavaq_s8(acc, vldrbq_z_s8(w, p), vldrbq_z_s8(x, p));
    }
    return acc;
}
#endif

#ifndef WN_HAVE_DOT2_S8
#define WN_HAVE_DOT2_S8
/* two rows against the same x: each row's x vector loaded once, two VMLADAVAs per 16 elements
 * (the DSP two-row loop of runtime_c/dsp, the next folder, would be slower here) */
static inline void wn_dot2_s8(const int8_t *w0, const int8_t *w1, const int8_t *x, int32_t n,
                              int32_t *acc0, int32_t *acc1)
{
    int32_t a0 = *acc0, a1 = *acc1;
    for (; n >= 16; n -= 16, w0 += 16, w1 += 16, x += 16) {
        const int8x16_t xv = vldrbq_s8(x);
        a0 = vmladavaq_s8(a0, vldrbq_s8(w0), xv);
        a1 = vmladavaq_s8(a1, vldrbq_s8(w1), xv);
    }
    if (n > 0) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        const int8x16_t xv = vldrbq_z_s8(x, p);
        a0 = vmladavaq_s8(a0, vldrbq_z_s8(w0, p), xv);
        a1 = vmladavaq_s8(a1, vldrbq_z_s8(w1, p), xv);
    }
    *acc0 = a0;
    *acc1 = a1;
}
#endif

#ifndef WN_HAVE_DOT_S4
#define WN_HAVE_DOT_S4
/* Eight weight bytes widened to 16-bit lanes (0x00HL: L the even element, H the odd one) become
 * sixteen int8 lanes in element order: VSLI #4 makes a lane 0x0HLL, whose low byte ends in L
 * and high byte in H; a byte shift left then arithmetic shift right by 4 sign-extends each
 * nibble (as wn_s4_at's (nibble ^ 8) - 8 does). Products of at most 8 * 128, summed into an
 * int32 as the reference does. The tail is predicated: the last weight byte read holds an
 * element, its other nibble meets a zeroed activation lane. */
static inline int32_t wn_dot_s4(const uint8_t *w, int32_t first, const int8_t *x, int32_t n)
{
    int32_t acc = 0;
    if ((first & 1) && n > 0) { /* an odd start: its high nibble, then whole bytes */
        acc = wn_s4_at(w, first) * (int32_t)x[0];
        first += 1;
        x += 1;
        n -= 1;
    }
    w += first >> 1;
    /* whole vectors unpredicated (gcc 12 spends four instructions on each VCTP predicate), then
     * one predicated tail */
    for (; n >= 16; n -= 16, w += 8, x += 16) {
        const uint16x8_t b = vldrbq_u16(w);
        const int8x16_t nib = vreinterpretq_s8_u16(vsliq_n_u16(b, b, 4));
        acc = vmladavaq_s8(acc, vshrq_n_s8(vshlq_n_s8(nib, 4), 4), vldrbq_s8(x));
    }
    if (n > 0) {
        const mve_pred16_t p8 = vctp8q((uint32_t)n), p16 = vctp16q(((uint32_t)n + 1) >> 1);
        const uint16x8_t b = vldrbq_z_u16(w, p16);
        const int8x16_t nib = vreinterpretq_s8_u16(vsliq_n_u16(b, b, 4));
        acc = vmladavaq_s8(acc, vshrq_n_s8(vshlq_n_s8(nib, 4), 4), vldrbq_z_s8(x, p8));
    }
    return acc;
}
#endif

#ifndef WN_HAVE_DOT_S16
#define WN_HAVE_DOT_S16
/* VMLALDAVA: the products summed into a 64-bit accumulator, exact for every int16 input */
static inline int64_t wn_dot_s16(const int16_t *w, const int16_t *x, int32_t n)
{
    int64_t acc = 0;
    for (; n >= 8; n -= 8, w += 8, x += 8) { /* whole vectors unpredicated, as in wn_dot_s4 */
        acc = vmlaldavaq_s16(acc, vldrhq_s16(w), vldrhq_s16(x));
    }
    if (n > 0) {
        const mve_pred16_t p = vctp16q((uint32_t)n);
        acc = vmlaldavaq_s16(acc, vldrhq_z_s16(w, p), vldrhq_z_s16(x, p));
    }
    return acc;
}
#endif

#ifndef WN_HAVE_DOT_S8S16
#define WN_HAVE_DOT_S8S16
/* Weights widened to int16 lanes by the load (VLDRB.S16, exact), then VMLALDAVA.S16: eight
 * products of at most 128 * 32768 = 2^22 into a 64-bit accumulator, which no int32 n can
 * overflow (2^31 * 2^22 = 2^53), so exact for every input, as the reference's int64 sum.
 * Whole vectors unpredicated, then one predicated tail. */
static inline int64_t wn_dot_s8s16(const int8_t *w, const int16_t *x, int32_t n)
{
    int64_t acc = 0;
    for (; n >= 8; n -= 8, w += 8, x += 8) {
        acc = vmlaldavaq_s16(acc, vldrbq_s16(w), vldrhq_s16(x));
    }
    if (n > 0) {
        const mve_pred16_t p = vctp16q((uint32_t)n);
        acc = vmlaldavaq_s16(acc, vldrbq_z_s16(w, p), vldrhq_z_s16(x, p));
    }
    return acc;
}
#endif

#endif

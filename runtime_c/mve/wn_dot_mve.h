/* mve: the dot products of the integer kernels for this ISA and the bulk of the int8 add and
 * gate (the project's wn_dot_isa.h includes this for the target; runtime_c/ref/wn_dot.h then
 * skips its portable loops for the functions defined here; the kernels themselves are the
 * reference ones).
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


/* ---- the bulk of the int8 add and gate, 4 elements in the int32 lanes of a vector ---- */
#ifndef WN_HAVE_ELTWISE_S8
#define WN_HAVE_ELTWISE_S8

/* single rounding with shift <= 0 of 4 lanes, floor((v * mult + 2^(30 - shift)) / 2^(31 - shift)),
 * wn_requant's value: for shift 0 VQRDMULH, (2 v mult + 2^31) >> 32; below, VQDMULH
 * (floor(v * mult / 2^31)) then VRSHL by the shift (a rounding right shift by -shift), since the
 * fraction VQDMULH drops cannot carry the rounded sum past a multiple of 2^-shift. Both saturate
 * only for two INT32_MIN operands, and multipliers are positive. */
static inline int32x4_t wn_mve_requant4(int32x4_t v, int32_t mult, int32_t shift)
{
    return shift == 0 ? vqrdmulhq_n_s32(v, mult) : vrshlq_n_s32(vqdmulhq_n_s32(v, mult), shift);
}

/* wn_clamp_zp(v, zp, -128, 127) of 4 lanes stored as int8 (|v| < 2^30: no overflow) */
static inline void wn_mve_out4(int8_t *y, int32x4_t v, int32_t zp)
{
    vstrbq_s32(y, vminq_s32(vmaxq_s32(vaddq_n_s32(v, zp), vdupq_n_s32(-128)), vdupq_n_s32(127)));
}

/* wn_add_s8 of the first n - n % 4 elements, when single rounding and all three shifts <= 0
 * (else none): each input scaled to the common left-shifted domain (|(x - zp) << 20| < 2^28),
 * requantized, summed (no overflow), requantized again */
static inline int32_t wn_add_bulk_s8(int8_t *y, const int8_t *a, const int8_t *b, int32_t n,
                                     const wn_add_q *q)
{
    int32_t i = 0;
    if (!WN_SINGLE_ROUNDING || q->a_shift > 0 || q->b_shift > 0 || q->out_shift > 0 ||
        !wn_apart(y, a, n) || !wn_apart(y, b, n)) {
        return 0;
    }
    for (; i + 4 <= n; i += 4) {
        const int32x4_t sa = vshlq_r_s32(vsubq_n_s32(vldrbq_s32(a + i), q->zp_a), q->left_shift);
        const int32x4_t sb = vshlq_r_s32(vsubq_n_s32(vldrbq_s32(b + i), q->zp_b), q->left_shift);
        const int32x4_t sum = vaddq_s32(wn_mve_requant4(sa, q->a_mult, q->a_shift),
                                        wn_mve_requant4(sb, q->b_mult, q->b_shift));
        wn_mve_out4(y + i, wn_mve_requant4(sum, q->out_mult, q->out_shift), q->zp_out);
    }
    return i;
}

/* a lookup table of 4 lanes: entry x + 128 clamped to [first, last] (wn_lut8_at), gathered */
static inline int32x4_t wn_mve_lut4(const wn_lut8 *lut, const int8_t *x)
{
    const int32x4_t i = vminq_s32(vmaxq_s32(vaddq_n_s32(vldrbq_s32(x), 128),
                                            vdupq_n_s32(lut->first)), vdupq_n_s32(lut->last));
    return vldrbq_gather_offset_s32(lut->values, vreinterpretq_u32_s32(vsubq_n_s32(i, lut->first)));
}

/* wn_gate_s8 of the first half - half % 4 elements, when single rounding and the shift <= 0
 * (else none): both tables gathered, the product (|t * s| < 2^17) requantized */
static inline int32_t wn_gate_bulk_s8(int8_t *y, const int8_t *a, int32_t half, int32_t tanh_at,
                                      int32_t sigmoid_at, const wn_lut8 *lut_tanh,
                                      const wn_lut8 *lut_sigmoid, const wn_mul_q *q)
{
    int32_t i = 0;
    if (!WN_SINGLE_ROUNDING || q->shift > 0 || !wn_apart(y, a + tanh_at, half) ||
        !wn_apart(y, a + sigmoid_at, half)) {
        return 0;
    }
    for (; i + 4 <= half; i += 4) {
        const int32x4_t t = vsubq_n_s32(wn_mve_lut4(lut_tanh, a + tanh_at + i), q->zp_a);
        const int32x4_t s = vsubq_n_s32(wn_mve_lut4(lut_sigmoid, a + sigmoid_at + i), q->zp_b);
        wn_mve_out4(y + i, wn_mve_requant4(vmulq_s32(t, s), q->mult, q->shift), q->zp_out);
    }
    return i;
}
#endif

#endif

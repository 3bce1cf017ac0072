/* neon: the dot products of the integer kernels for this ISA and the bulk of the int8 add and
 * gate (the project's wn_dot_isa.h includes this for the target; runtime_c/ref/wn_dot.h then
 * skips its portable loops for the functions defined here; the kernels themselves are the
 * reference ones).
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


/* ---- the bulk of the int8 add and gate, 8 elements in two vectors of int32 lanes ---- */
#ifndef WN_HAVE_ELTWISE_S8
#define WN_HAVE_ELTWISE_S8

/* single rounding with shift <= 0, floor((v * mult + 2^(30 - shift)) / 2^(31 - shift)),
 * wn_requant's value: SQRDMULH for shift 0; below, SQDMULH (floor(v * mult / 2^31)) then SRSHL by
 * the shift (a rounding right shift by -shift), since the fraction SQDMULH drops cannot carry
 * the rounded sum past a multiple of 2^-shift. Both saturate only for two INT32_MIN operands,
 * and multipliers are positive. */
static inline int32x4_t wn_neon_requant4(int32x4_t v, int32_t mult, int32_t shift)
{
    return shift == 0 ? vqrdmulhq_n_s32(v, mult)
                      : vrshlq_s32(vqdmulhq_n_s32(v, mult), vdupq_n_s32(shift));
}

/* wn_clamp_zp(v, zp, -128, 127) of two vectors (|v| < 2^30: no overflow), as 8 int8 */
static inline int8x8_t wn_neon_out8(int32x4_t lo, int32x4_t hi, int32_t zp)
{
    const int32x4_t z = vdupq_n_s32(zp), min = vdupq_n_s32(-128), max = vdupq_n_s32(127);
    lo = vminq_s32(vmaxq_s32(vaddq_s32(lo, z), min), max);
    hi = vminq_s32(vmaxq_s32(vaddq_s32(hi, z), min), max);
    return vmovn_s16(vcombine_s16(vmovn_s32(lo), vmovn_s32(hi)));
}

/* 8 int8 as two vectors of int32 lanes */
static inline void wn_neon_widen8(const int8_t *p, int32x4_t *lo, int32x4_t *hi)
{
    const int16x8_t w = vmovl_s8(vld1_s8(p));
    *lo = vmovl_s16(vget_low_s16(w));
    *hi = vmovl_s16(vget_high_s16(w));
}

/* wn_add_s8 of the first n - n % 8 elements, when single rounding and all three shifts <= 0
 * (else none): each input scaled to the common left-shifted domain (|(x - zp) << 20| < 2^28),
 * requantized, summed (no overflow), requantized again */
static inline int32_t wn_add_bulk_s8(int8_t *y, const int8_t *a, const int8_t *b, int32_t n,
                                     const wn_add_q *q)
{
    const int32x4_t left = vdupq_n_s32(q->left_shift);
    int32_t i = 0, h;
    if (!WN_SINGLE_ROUNDING || q->a_shift > 0 || q->b_shift > 0 || q->out_shift > 0 ||
        !wn_apart(y, a, n) || !wn_apart(y, b, n)) {
        return 0;
    }
    for (; i + 8 <= n; i += 8) {
        int32x4_t av[2], bv[2], sum[2];
        wn_neon_widen8(a + i, &av[0], &av[1]);
        wn_neon_widen8(b + i, &bv[0], &bv[1]);
        for (h = 0; h < 2; ++h) {
            const int32x4_t sa = vshlq_s32(vsubq_s32(av[h], vdupq_n_s32(q->zp_a)), left);
            const int32x4_t sb = vshlq_s32(vsubq_s32(bv[h], vdupq_n_s32(q->zp_b)), left);
            sum[h] = wn_neon_requant4(vaddq_s32(wn_neon_requant4(sa, q->a_mult, q->a_shift),
                                                wn_neon_requant4(sb, q->b_mult, q->b_shift)),
                                      q->out_mult, q->out_shift);
        }
        vst1_s8(y + i, wn_neon_out8(sum[0], sum[1], q->zp_out));
    }
    return i;
}

/* wn_gate_s8 of the first half - half % 8 elements, when single rounding and the shift <= 0
 * (else none): the table lookups one by one, the product (|t * s| < 2^17) and its
 * requantization in vector lanes */
static inline int32_t wn_gate_bulk_s8(int8_t *y, const int8_t *a, int32_t half, int32_t tanh_at,
                                      int32_t sigmoid_at, const wn_lut8 *lut_tanh,
                                      const wn_lut8 *lut_sigmoid, const wn_mul_q *q)
{
    int32_t t[8], s[8], i = 0, j;
    if (!WN_SINGLE_ROUNDING || q->shift > 0 || !wn_apart(y, a + tanh_at, half) ||
        !wn_apart(y, a + sigmoid_at, half)) {
        return 0;
    }
    for (; i + 8 <= half; i += 8) {
        for (j = 0; j < 8; ++j) {
            t[j] = wn_lut8_at(lut_tanh, a[tanh_at + i + j]) - q->zp_a;
            s[j] = wn_lut8_at(lut_sigmoid, a[sigmoid_at + i + j]) - q->zp_b;
        }
        vst1_s8(y + i, wn_neon_out8(
            wn_neon_requant4(vmulq_s32(vld1q_s32(t), vld1q_s32(s)), q->mult, q->shift),
            wn_neon_requant4(vmulq_s32(vld1q_s32(t + 4), vld1q_s32(s + 4)), q->mult, q->shift),
            q->zp_out));
    }
    return i;
}
#endif

#endif

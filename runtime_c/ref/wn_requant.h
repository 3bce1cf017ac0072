/* Fixed-point helpers of the integer precisions; bit-exact with wncc/golden/qmath.py.
 * WN_SINGLE_ROUNDING selects the requantization of 8-bit paths (1: one rounded shift, the
 * default; 0: TFLite "double rounding"). The emitted Makefile defines it. */
#ifndef WN_REQUANT_H
#define WN_REQUANT_H

#include <stdint.h>

#include "wn_runtime.h"

#ifndef WN_SINGLE_ROUNDING
#define WN_SINGLE_ROUNDING 1
#endif

static inline int32_t wn_sat32(int64_t x)
{
    return x > INT32_MAX ? INT32_MAX : (x < INT32_MIN ? INT32_MIN : (int32_t)x);
}

/* saturating rounding doubling high multiply */
static inline int32_t wn_srdhm(int32_t a, int32_t b)
{
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* rounding divide by 2^exponent, ties away from zero */
static inline int32_t wn_rdbpot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* single rounding with a multiplier below 1 (shift <= 0, a total shift 31 - shift of 31 or
 * more): floor(rounded / 2^total) always fits in 32 bits (|acc * mult| < 2^62), so there is no
 * saturation to test; from 32 on it is the high word of the rounded product shifted on -- one
 * multiply-accumulate and one shift on 32-bit cores */
static inline int32_t wn_requant_hi(int32_t acc, int32_t mult, int32_t shift)
{
    const int64_t rounded = (int64_t)acc * mult + ((int64_t)1 << (30 - shift));
    return shift == 0 ? (int32_t)(rounded >> 31) : (int32_t)(rounded >> 32) >> (-1 - shift);
}

/* acc * mult * 2^(shift - 31), rounded */
static inline int32_t wn_requant(int32_t acc, int32_t mult, int32_t shift)
{
#if WN_SINGLE_ROUNDING
    const int64_t rounded = (int64_t)acc * mult + ((int64_t)1 << (30 - shift));
    if (shift <= -1) { /* as wn_requant_hi, without its test of shift == 0 */
        return (int32_t)(rounded >> 32) >> (-1 - shift);
    }
    return wn_sat32(rounded >> (31 - shift));
#else
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return wn_rdbpot(wn_srdhm(wn_sat32((int64_t)acc * ((int64_t)1 << left)), mult), right);
#endif
}

/* 16-bit activation paths: int64 accumulator, reduced 16-bit multiplier */
static inline int32_t wn_requant64(int64_t acc, int32_t mult, int32_t shift)
{
    const int64_t m16 = mult < 0x7FFF0000 ? ((int64_t)mult + (1 << 15)) >> 16 : 0x7FFF;
    const int32_t total = 15 - shift;
    return wn_sat32((acc * m16 + ((int64_t)1 << (total - 1))) >> total);
}

/* wn_requant, or wn_requant_hi where the caller checked once that it applies (hi: a constant
 * at each call, so each loop compiles without the test) */
static inline int32_t wn_requant_if(int32_t acc, int32_t mult, int32_t shift, int hi)
{
    return hi ? wn_requant_hi(acc, mult, shift) : wn_requant(acc, mult, shift);
}

/* single rounding and every shift <= 0: wn_requant_hi serves */
static inline int wn_requant_hi_serves(int32_t s0, int32_t s1, int32_t s2)
{
    return WN_SINGLE_ROUNDING && s0 <= 0 && s1 <= 0 && s2 <= 0;
}

static inline int32_t wn_clamp(int64_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : (int32_t)x);
}

/* clamp(r + zp, lo, hi) without a 64-bit sum: r clamped to [lo - zp, hi - zp], then zp added
 * (equal for every int32 r; zp, lo and hi are 16-bit values) */
static inline int32_t wn_clamp_zp(int32_t r, int32_t zp, int32_t lo, int32_t hi)
{
    const int32_t l = lo - zp, h = hi - zp;
    return (r < l ? l : (r > h ? h : r)) + zp;
}

/* float32 -> nearest int32, ties to even, clamped to |x| <= 2^22; NaN -> 0 */
static inline int32_t wn_round_f32(float x)
{
    if (x != x) {
        x = 0.0f;
    } else if (x > 4194304.0f) {
        x = 4194304.0f;
    } else if (x < -4194304.0f) {
        x = -4194304.0f;
    }
    return (int32_t)((x + 12582912.0f) - 12582912.0f);
}

/* output o of an integer layer from its accumulator, with the layer's wn_rq: 8-bit activations
 * (int32 accumulator) and 16-bit activations (int64 accumulator, reduced multiplier) */
static inline int32_t wn_rq_out8(int32_t acc, const wn_rq *q, int32_t o)
{
    const int32_t c = q->per_channel ? o : 0;
    return wn_clamp_zp(wn_requant(acc, q->mult[c], q->shift[c]), q->zp_out, -128, 127);
}

static inline int32_t wn_rq_out16(int64_t acc, const wn_rq *q, int32_t o)
{
    const int32_t c = q->per_channel ? o : 0;
    return wn_clamp_zp(wn_requant64(acc, q->mult[c], q->shift[c]), q->zp_out, -32768, 32767);
}

#endif

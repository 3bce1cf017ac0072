/* binary16 and bfloat16 <-> binary32 conversions without hardware support, rounding to
 * nearest even; bit-exact with numpy's float16 casts and wncc/golden/halfs.py. */
#ifndef WN_HALF_H
#define WN_HALF_H

#include <stdint.h>

typedef union {
    uint32_t u;
    float f;
} wn_bits32;

static inline uint16_t wn_f32_to_f16(float value)
{
    wn_bits32 b;
    uint32_t sign, absx;
    b.f = value;
    sign = (b.u >> 16) & 0x8000u;
    absx = b.u & 0x7FFFFFFFu;
    if (absx > 0x7F800000u) {
        return (uint16_t)(sign | 0x7E00u); /* NaN */
    }
    if (absx >= 0x477FF000u) {
        return (uint16_t)(sign | 0x7C00u); /* rounds to infinity */
    }
    if (absx < 0x38800000u) { /* below the smallest normal half: subnormal or zero */
        uint32_t e, mant, shift, r, rem, half;
        if (absx <= 0x33000000u) {
            return (uint16_t)sign;
        }
        e = absx >> 23;
        mant = (absx & 0x7FFFFFu) | 0x800000u;
        shift = 126u - e;
        r = mant >> shift;
        rem = mant & ((1u << shift) - 1u);
        half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (r & 1u))) {
            r += 1u;
        }
        return (uint16_t)(sign | r);
    }
    return (uint16_t)(sign | ((absx + 0xFFFu + ((absx >> 13) & 1u) - 0x38000000u) >> 13));
}

static inline float wn_f16_to_f32(uint16_t h)
{
    wn_bits32 b;
    const uint32_t sign = ((uint32_t)h & 0x8000u) << 16;
    const uint32_t e = ((uint32_t)h >> 10) & 0x1Fu;
    const uint32_t m = (uint32_t)h & 0x3FFu;
    if (e == 0u) {
        const float f = (float)m * 0x1p-24f;
        return sign ? -f : f;
    }
    b.u = e == 31u ? (sign | 0x7F800000u | (m << 13)) : (sign | ((e + 112u) << 23) | (m << 13));
    return b.f;
}

static inline uint16_t wn_f32_to_bf16(float value)
{
    wn_bits32 b;
    b.f = value;
    if ((b.u & 0x7FFFFFFFu) > 0x7F800000u) {
        return (uint16_t)((b.u >> 16) | 0x40u); /* quiet NaN */
    }
    return (uint16_t)((b.u + 0x7FFFu + ((b.u >> 16) & 1u)) >> 16);
}

static inline float wn_bf16_to_f32(uint16_t h)
{
    wn_bits32 b;
    b.u = (uint32_t)h << 16;
    return b.f;
}

/* fmt: 0 binary16, 1 bfloat16 */
static inline float wn_h16_to_f32(uint16_t h, int32_t fmt)
{
    return fmt ? wn_bf16_to_f32(h) : wn_f16_to_f32(h);
}

static inline float wn_round_h16_one(float x, int32_t fmt)
{
    return fmt ? wn_bf16_to_f32(wn_f32_to_bf16(x)) : wn_f16_to_f32(wn_f32_to_f16(x));
}

#endif

/* exp, log, tanh, sigmoid in float without libm; bit-exact with wncc/arith/mathf.py. */
#ifndef WN_MATHF_H
#define WN_MATHF_H

#include <stdint.h>

#define WN_LOG2E 0x1.715476p+0f
#define WN_LN2_HI 0x1.62e400p-1f
#define WN_LN2_LO 0x1.7f7d1cp-20f

/* exp(y) for y in [-80, 0] */
static inline float wn_exp_neg(float y)
{
    const float t = y * WN_LOG2E + 0.5f;
    int32_t n = (int32_t)t;
    float nf, r, p;
    union {
        uint32_t u;
        float f;
    } two_n;
    if ((float)n > t) {
        n -= 1; /* floor */
    }
    nf = (float)n;
    r = (y - nf * WN_LN2_HI) - nf * WN_LN2_LO;
    p = 0x1.a01a02p-13f;
    p = p * r + 0x1.6c16c2p-10f;
    p = p * r + 0x1.111112p-7f;
    p = p * r + 0x1.555556p-5f;
    p = p * r + 0x1.555556p-3f;
    p = p * r + 0x1.000000p-1f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    two_n.u = (uint32_t)(n + 127) << 23;
    return p * two_n.f;
}

/* exp(y) for y clamped to [-87, 88] (NaN to -87) */
static inline float wn_expf(float y)
{
    if (!(y >= -87.0f)) {
        y = -87.0f;
    }
    if (y > 88.0f) {
        y = 88.0f;
    }
    return wn_exp_neg(y);
}

/* ln(x) for normal x > 0: x = m * 2^e, m in (sqrt(2)/2, sqrt(2)], ln(m) = 2 atanh(s),
 * s = (m - 1) / (m + 1) */
static inline float wn_logf(float x)
{
    union {
        uint32_t u;
        float f;
    } b;
    int32_t e;
    float m, f, s, z, p, s2, ef;
    b.f = x;
    e = (int32_t)((b.u >> 23) & 0xFFu) - 127;
    b.u = (b.u & 0x7FFFFFu) | 0x3F800000u;
    m = b.f;
    if (m > 0x1.6a09e6p+0f) {
        m = m * 0.5f;
        e += 1;
    }
    f = m - 1.0f;
    s = f / (2.0f + f);
    z = s * s;
    p = 0x1.c71c72p-4f;
    p = p * z + 0x1.24924ap-3f;
    p = p * z + 0x1.99999ap-3f;
    p = p * z + 0x1.555556p-2f;
    p = p * z;
    s2 = s + s;
    ef = (float)e;
    return ((s2 + s2 * p) + ef * WN_LN2_LO) + ef * WN_LN2_HI;
}

static inline float wn_tanhf(float x)
{
    float a = x < 0.0f ? -x : x;
    float e, t;
    if (!(a <= 9.0f)) { /* NaN too */
        a = 9.0f;
    }
    e = wn_exp_neg(-2.0f * a);
    t = (1.0f - e) / (1.0f + e);
    return x < 0.0f ? -t : t;
}

static inline float wn_sigmoidf(float x)
{
    float a = x < 0.0f ? -x : x;
    float e, d;
    if (!(a <= 80.0f)) { /* NaN too */
        a = 80.0f;
    }
    e = wn_exp_neg(-a);
    d = 1.0f + e;
    return x < 0.0f ? e / d : 1.0f / d;
}

#endif

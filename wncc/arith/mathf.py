"""Float32 exp, log, tanh and sigmoid without libm: the specification the C kernels reproduce bit for bit.

Every step is one IEEE float32 operation (round to nearest even), written in the same order as
runtime_c/ref/wn_mathf.h, so numpy and C agree exactly when the C is built without FMA
contraction (-ffp-contract=off) or fast-math.

exp(y), y in [-80, 0]:  n = floor(y * log2(e) + 0.5);  r = (y - n * LN2_HI) - n * LN2_LO;
                        exp(y) = p(r) * 2^n with p the degree-7 Taylor polynomial of e^r.
exp(y)     = exp_neg's steps for y clamped to [-87, 88] (2^n stays a normal number)
log(x)     = e * ln2 + 2 atanh((m - 1) / (m + 1)) for x = m * 2^e (see log below)
tanh(x)    = sign(x) * (1 - e) / (1 + e),  e = exp(-2 min(|x|, 9))
sigmoid(x) = 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0,  e = exp(-min(|x|, 80))
A NaN input counts as +inf (tanh 1, sigmoid 1): defined results, no float-to-int of a NaN.
"""

from __future__ import annotations

import numpy as np

F = np.float32
LOG2E = F(float.fromhex("0x1.715476p+0"))
LN2_HI = F(float.fromhex("0x1.62e400p-1"))  # 15 significant bits: n * LN2_HI is exact
LN2_LO = F(float.fromhex("0x1.7f7d1cp-20"))
# 1/k! for k = 7 .. 0, rounded to float32
POLY = [F(float.fromhex(h)) for h in ("0x1.a01a02p-13", "0x1.6c16c2p-10", "0x1.111112p-7",
                                      "0x1.555556p-5", "0x1.555556p-3", "0x1.000000p-1",
                                      "0x1.000000p+0", "0x1.000000p+0")]
TANH_CLAMP = F(9.0)
SIGMOID_CLAMP = F(80.0)


def exp_neg(y: np.ndarray) -> np.ndarray:
    """exp(y) for float32 y in [-80, 0]."""
    y = np.asarray(y, dtype=F)
    n = np.floor(y * LOG2E + F(0.5))
    r = (y - n * LN2_HI) - n * LN2_LO
    p = POLY[0]
    for c in POLY[1:]:
        p = p * r + c
    return np.ldexp(np.asarray(p, dtype=F), n.astype(np.int32)).astype(F)


def _clamped_abs(x: np.ndarray, limit: np.float32) -> np.ndarray:
    """min(|x|, limit), with NaN -> limit (the C's ``if (!(a <= limit)) a = limit``)."""
    a = np.abs(x)
    return np.where(a <= limit, a, limit).astype(F)


def tanh(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=F)
    e = exp_neg(F(-2.0) * _clamped_abs(x, TANH_CLAMP))
    t = (F(1.0) - e) / (F(1.0) + e)
    return np.where(x < 0, -t, t).astype(F)


def sigmoid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=F)
    e = exp_neg(-_clamped_abs(x, SIGMOID_CLAMP))
    d = F(1.0) + e
    return np.where(x < 0, e / d, F(1.0) / d).astype(F)


EXP_LO, EXP_HI = F(-87.0), F(88.0)  # exp's input range with a normal float32 result
SQRT2 = F(float.fromhex("0x1.6a09e6p+0"))
# 1/9, 1/7, 1/5, 1/3 rounded to float32: log(m) = 2 atanh(s) = 2s + 2s * z * P(z), z = s * s
LOG_POLY = [F(1.0) / F(9.0), F(1.0) / F(7.0), F(1.0) / F(5.0), F(1.0) / F(3.0)]


def exp(y: np.ndarray) -> np.ndarray:
    """exp(y) with y clamped to [-87, 88] (NaN to -87): exp_neg's steps, which hold for y > 0."""
    y = np.asarray(y, dtype=F)
    y = np.where(y >= EXP_LO, y, EXP_LO)
    return exp_neg(np.where(y > EXP_HI, EXP_HI, y).astype(F))


def log(x: np.ndarray) -> np.ndarray:
    """ln(x) for normal float32 x > 0: x = m * 2^e with m in (sqrt(2)/2, sqrt(2)],
    f = m - 1 (exact), s = f / (2 + f) = (m - 1) / (m + 1), z = s * s,
    ln(m) = 2s + 2s * z * (1/3 + z * (1/5 + z * (1/7 + z / 9))), then
    ln(x) = ((2s + 2s * p) + e * LN2_LO) + e * LN2_HI; max error about 2e-7 relative."""
    bits = np.asarray(x, dtype=F).view(np.uint32)
    e = ((bits >> 23) & 0xFF).astype(np.int32) - 127
    m = ((bits & 0x7FFFFF) | 0x3F800000).astype(np.uint32).view(F)
    big = m > SQRT2
    m = np.where(big, m * F(0.5), m).astype(F)
    e = e + big
    f = m - F(1.0)
    s = f / (F(2.0) + f)
    z = s * s
    p = LOG_POLY[0]
    for c in LOG_POLY[1:]:
        p = p * z + c
    p = p * z
    s2 = s + s
    ef = e.astype(F)
    return ((s2 + s2 * p) + ef * LN2_LO + ef * LN2_HI).astype(F)

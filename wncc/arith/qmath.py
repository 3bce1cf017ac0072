"""Fixed-point arithmetic of the integer precisions (ARITHMETIC.md), on numpy int64 arrays.

Every function returns exactly what runtime_c/ref/wn_requant.h computes for the same inputs.

* ``quantize_multiplier``: a real rescale factor M as an int32 Q31 multiplier and a shift
  (M = q * 2^(shift - 31)), like TensorFlow Lite's QuantizeMultiplier: frexp, round half away
  from zero, the 2^31 fix-up; factors below 2^-31 become (0, 0).
* ``requant`` with rounding "single" (the default): one rounded shift of the 64-bit product, ties
  toward +infinity. With rounding "double" (gemmlowp / TFLite / CMSIS-NN arm_nn_requantize):
  saturating rounding doubling high multiply, then a rounding divide by a power of two with ties
  away from zero. The left shift of a multiplier above one saturates to int32.
* ``requant64``: 16-bit activation paths (int64 accumulators), TFLite's reduced-multiplier form:
  m16 = (q + 2^15) >> 16 (0x7FFF when q >= 0x7FFF0000), (acc * m16 + 2^(14 - shift)) >> (15 - shift).
"""

from __future__ import annotations

import math

import numpy as np

from wncc.ir import ACT_DTYPES

INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1


def quantize_multiplier(m: float) -> tuple[int, int]:
    if m <= 0.0:
        return 0, 0
    frac, shift = math.frexp(m)
    q = int(math.floor(abs(frac) * 2 ** 31 + 0.5))  # round half away from zero (frac > 0)
    if q == 2 ** 31:
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        raise ValueError(f"rescale factor {m} too large for a Q31 multiplier")
    return q, shift


def _sat32(x: np.ndarray) -> np.ndarray:
    return np.clip(x, INT32_MIN, INT32_MAX)


def srdhm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Saturating rounding doubling high multiply of int32 values by int32 multipliers."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    total = ab + nudge
    q = np.where(total >= 0, total >> 31, -((-total) >> 31))  # C division truncates toward zero
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, q)


def rdbpot(x: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """Rounding divide by 2^exponent (exponent >= 0), ties away from zero."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0).astype(np.int64)
    return (x >> exponent) + (remainder > threshold).astype(np.int64)


def requant(acc: np.ndarray, q: int | np.ndarray, shift: int | np.ndarray,
            rounding: str = "single") -> np.ndarray:
    """int32 accumulator(s) times quantized multiplier(s), broadcasting like numpy."""
    acc = np.asarray(acc, dtype=np.int64)
    q = np.asarray(q, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    if rounding == "single":
        total = 31 - shift
        return _sat32((acc * q + (np.int64(1) << (total - 1))) >> total)
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    return rdbpot(srdhm(_sat32(acc << left), q), right)


def requant64(acc: np.ndarray, q: int | np.ndarray, shift: int | np.ndarray) -> np.ndarray:
    """int64 accumulator(s) of a 16-bit activation path, reduced-multiplier form."""
    acc = np.asarray(acc, dtype=np.int64)
    q = np.asarray(q, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    m16 = np.where(q < 0x7FFF0000, (q + (1 << 15)) >> 16, 0x7FFF)
    total = 15 - shift
    return _sat32((acc * m16 + (np.int64(1) << (total - 1))) >> total)


def round_f32(v: np.ndarray) -> np.ndarray:
    """float32 -> nearest int64, ties to even, clamped to +-2^22; NaN -> 0 (wn_round_f32)."""
    v = np.asarray(v, np.float32)
    v = np.where(np.isnan(v), np.float32(0.0), v)
    return np.rint(np.clip(v, np.float32(-4194304.0), np.float32(4194304.0))).astype(np.int64)


def clamp(x: np.ndarray, dtype: str) -> np.ndarray:
    """Saturate to an activation type's range (i8, i16)."""
    lo, hi = ACT_DTYPES[dtype]
    return np.clip(x, lo, hi)

"""The golden model's integer ops on int64 arrays shaped (channels, n), per ARITHMETIC.md.

Accumulations are exact, so their order does not matter: convolutions use a float64 matrix
product, which is exact because every partial sum stays below 2^53 (8- and 16-bit operands,
at most a few thousand terms)."""

from __future__ import annotations

import numpy as np

from wncc.golden.qmath import requant, requant64
from wncc.ir import ACT_DTYPES

I = np.int64


def clamp(x: np.ndarray, dtype: str) -> np.ndarray:
    lo, hi = ACT_DTYPES[dtype]
    return np.clip(x, lo, hi)


def conv_taps(q: dict, taps: list[np.ndarray], dtype: str, rounding: str) -> np.ndarray:
    """y = requant(bias + sum_k sum_i w[:, i, k] x_k[i]) + zp_out; w [Cout, Cin, K]."""
    w = q["w"]
    stacked = np.concatenate(taps, axis=0).astype(np.float64)  # (K*Cin, n), tap-major
    wk = np.transpose(w, (0, 2, 1)).reshape(w.shape[0], -1).astype(np.float64)
    acc = (wk @ stacked).astype(I) + q["bias"][:, None]
    mult, shift = q["mult"][:, None], q["shift"][:, None]
    out = requant64(acc, mult, shift) if dtype == "i16" else requant(acc, mult, shift, rounding)
    return clamp(out + q["zp_out"], dtype)


def convt_table(q: dict, x: np.ndarray, dtype: str, rounding: str) -> np.ndarray:
    """Upsampling table (hop, Cout) from one frame x (Cin,); w [Cin, Cout, hop]."""
    w = q["w"].astype(np.float64)
    acc = np.einsum("iop,i->po", w, x.astype(np.float64)).astype(I) + q["bias"][None, :]
    mult, shift = q["mult"][None, :], q["shift"][None, :]
    out = requant64(acc, mult, shift) if dtype == "i16" else requant(acc, mult, shift, rounding)
    return clamp(out + q["zp_out"], dtype)


def add(q: dict, a: np.ndarray, b: np.ndarray, dtype: str, rounding: str) -> np.ndarray:
    sa = (a.astype(I) - q["zp_a"]) << q["left_shift"]
    sb = (b.astype(I) - q["zp_b"]) << q["left_shift"]
    ra = requant(sa, q["a_mult"], q["a_shift"], rounding)
    rb = requant(sb, q["b_mult"], q["b_shift"], rounding)
    out = requant(ra + rb, q["out_mult"], q["out_shift"], rounding)
    return clamp(out + q["zp_out"], dtype)


def mul(q: dict, a: np.ndarray, b: np.ndarray, dtype: str, rounding: str) -> np.ndarray:
    acc = (a.astype(I) - q["zp_a"]) * (b.astype(I) - q["zp_b"])
    return clamp(requant(acc, q["mult"], q["shift"], rounding) + q["zp_out"], dtype)


def scale(q: dict, a: np.ndarray, dtype: str, rounding: str) -> np.ndarray:
    acc = (a.astype(I) - q["zp_a"]) * q["c"]
    return clamp(requant(acc, q["mult"], q["shift"], rounding) + q["zp_out"], dtype)


def lut(table: np.ndarray, x: np.ndarray, dtype: str) -> np.ndarray:
    """int8: direct 256-entry table. int16: 513-entry table, linear interpolation between
    entries 128 input steps apart, rounding half up."""
    x = x.astype(I)
    if dtype == "i8":
        return table[x + 128]
    u = x + 32768
    idx, frac = u >> 7, u & 127
    base = table[idx]
    return base + (((table[idx + 1] - base) * frac + 64) >> 7)


def gate(q: dict, a: np.ndarray, half: int, tanh_at: int, sigmoid_at: int, dtype: str,
         rounding: str) -> np.ndarray:
    t = lut(q["lut_t"], a[tanh_at:tanh_at + half], dtype)
    s = lut(q["lut_s"], a[sigmoid_at:sigmoid_at + half], dtype)
    acc = (t - q["zp_t"]) * (s - q["zp_s"])
    return clamp(requant(acc, q["mult"], q["shift"], rounding) + q["zp_out"], dtype)


def rescale(q: dict, x: np.ndarray, dtype: str, rounding: str, relu: bool = False) -> np.ndarray:
    acc = x.astype(I) - q["zp_in"]
    if relu:
        acc = np.maximum(acc, 0)
    return clamp(requant(acc, q["mult"], q["shift"], rounding) + q["zp_out"], dtype)


def quantize(q: dict, x: np.ndarray, dtype: str) -> np.ndarray:
    """QuantizeLinear: float32 division, round half to even, add zero point, saturate."""
    v = np.asarray(x, np.float32) / q["scale"]
    v = np.clip(v, np.float32(-4194304.0), np.float32(4194304.0))
    return clamp(np.rint(v).astype(I) + q["zp"], dtype)

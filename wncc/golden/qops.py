"""The golden model's integer ops on int64 arrays shaped (channels, n), per ARITHMETIC.md.

Accumulations are exact, so their order does not matter: convolutions use a float64 matrix
product, which is exact because every partial sum stays below 2^53 (8- and 16-bit operands,
at most a few thousand terms)."""

from __future__ import annotations

import numpy as np

from wncc.arith.params import Act16Q, ActQ, AddQ, ConvQ, GateQ, MulQ, QuantizeQ, RescaleQ
from wncc.arith.qmath import requant, requant64, round_f32
from wncc.arith.tables import ACT16_DOMAIN_BITS, ACT16_TABLE_BITS, act16_table
from wncc.ir import ACT_DTYPES

I = np.int64
ACT16_TABLES = {name: act16_table(name) for name in ("tanh", "sigmoid")}


def clamp(x: np.ndarray, dtype: str) -> np.ndarray:
    lo, hi = ACT_DTYPES[dtype]
    return np.clip(x, lo, hi)


def conv_taps(q: ConvQ, taps: list[np.ndarray], dtype: str, rounding: str) -> np.ndarray:
    """y = requant(bias + sum_k sum_i w[:, i, k] x_k[i]) + zp_out; w [Cout, Cin, K]."""
    w = q.w
    stacked = np.concatenate(taps, axis=0).astype(np.float64)  # (K*Cin, n), tap-major
    wk = np.transpose(w, (0, 2, 1)).reshape(w.shape[0], -1).astype(np.float64)
    acc = (wk @ stacked).astype(I) + q.bias[:, None]
    mult, shift = q.mult[:, None], q.shift[:, None]
    out = requant64(acc, mult, shift) if dtype == "i16" else requant(acc, mult, shift, rounding)
    return clamp(out + q.zp_out, dtype)


def convt_table(q: ConvQ, x: np.ndarray, dtype: str, rounding: str) -> np.ndarray:
    """Upsampling table (hop, Cout) from one frame x (Cin,); w [Cin, Cout, hop]."""
    w = q.w.astype(np.float64)
    acc = np.einsum("iop,i->po", w, x.astype(np.float64)).astype(I) + q.bias[None, :]
    mult, shift = q.mult[None, :], q.shift[None, :]
    out = requant64(acc, mult, shift) if dtype == "i16" else requant(acc, mult, shift, rounding)
    return clamp(out + q.zp_out, dtype)


def add(q: AddQ, a: np.ndarray, b: np.ndarray, dtype: str, rounding: str) -> np.ndarray:
    sa = (a.astype(I) - q.zp_a) << q.left_shift
    sb = (b.astype(I) - q.zp_b) << q.left_shift
    ra = requant(sa, q.a_mult, q.a_shift, rounding)
    rb = requant(sb, q.b_mult, q.b_shift, rounding)
    out = requant(ra + rb, q.out_mult, q.out_shift, rounding)
    return clamp(out + q.zp_out, dtype)


def mul(q: MulQ, a: np.ndarray, b: np.ndarray, dtype: str, rounding: str) -> np.ndarray:
    acc = (a.astype(I) - q.zp_a) * (b.astype(I) - q.zp_b)
    return clamp(requant(acc, q.mult, q.shift, rounding) + q.zp_out, dtype)


def scale(q: MulQ, a: np.ndarray, dtype: str, rounding: str) -> np.ndarray:
    acc = (a.astype(I) - q.zp_a) * q.c
    return clamp(requant(acc, q.mult, q.shift, rounding) + q.zp_out, dtype)


def lut(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    """int8 tanh / sigmoid: the 256-entry table indexed by x + 128."""
    return table[x.astype(I) + 128]


def act16(fn: str, p: Act16Q, x: np.ndarray, rounding: str) -> np.ndarray:
    """int16 tanh / sigmoid (see arith/tables.py): rescale onto the fixed domain, interpolate
    the shared Q0.15 table, requantize to the output parameters."""
    domain = 1 << ACT16_DOMAIN_BITS
    u = np.clip(requant(x.astype(I) - p.zp_in, p.in_mult, p.in_shift, rounding),
                -domain, domain - 1) + domain
    frac_bits = ACT16_DOMAIN_BITS + 1 - ACT16_TABLE_BITS
    table = ACT16_TABLES[fn]
    idx, frac = u >> frac_bits, u & ((1 << frac_bits) - 1)
    base = table[idx]
    y = base + (((table[idx + 1] - base) * frac + (1 << (frac_bits - 1))) >> frac_bits)
    return clamp(requant(y, p.out_mult, p.out_shift, rounding) + p.zp_out, "i16")


def activation(q: ActQ, x: np.ndarray, rounding: str) -> np.ndarray:
    return act16(q.fn, q.act16, x, rounding) if q.act16 is not None else lut(q.lut, x)


def gate(q: GateQ, a: np.ndarray, half: int, tanh_at: int, sigmoid_at: int, dtype: str,
         rounding: str) -> np.ndarray:
    t = activation(q.tanh, a[tanh_at:tanh_at + half], rounding)
    s = activation(q.sigmoid, a[sigmoid_at:sigmoid_at + half], rounding)
    return mul(q.mul, t, s, dtype, rounding)


def rescale(q: RescaleQ, x: np.ndarray, dtype: str, rounding: str, relu: bool = False) -> np.ndarray:
    acc = x.astype(I) - q.zp_in
    if relu:
        acc = np.maximum(acc, 0)
    return clamp(requant(acc, q.mult, q.shift, rounding) + q.zp_out, dtype)


def quantize(q: QuantizeQ, x: np.ndarray, dtype: str) -> np.ndarray:
    """QuantizeLinear: float32 division, round half to even, add zero point, saturate."""
    return clamp(round_f32(np.asarray(x, np.float32) / q.scale).astype(I) + q.zp, dtype)

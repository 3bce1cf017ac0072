"""Activation tables of the integer precisions, computed at compile time (ARITHMETIC.md).

8-bit tanh / sigmoid: the input has 256 values, so entry = quantize(f(dequantize(q))) for each is
exact by construction. 16-bit: the input is rescaled onto a fixed domain [-R, R) with 2^23 steps
per R, and a 4097-entry Q0.15 table shared by every layer is interpolated (12-bit fraction); the
result is then requantized to the tensor's parameters.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

ACT16_RANGE = {"tanh": 8.0, "sigmoid": 16.0}
ACT16_DOMAIN_BITS = 23
ACT16_TABLE_BITS = 12


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"tanh": np.tanh, "sigmoid": sigmoid}


def lut8(fn_name: str, in_scale: float, in_zp: int, out_scale: float, out_zp: int,
         lo: int, hi: int) -> np.ndarray:
    """The 256-entry table of an 8-bit tanh / sigmoid, indexed by q + 128."""
    q = np.arange(-128, 128, dtype=np.int64)
    real = in_scale * (q - in_zp).astype(np.float64)
    return np.clip(np.rint(FUNCTIONS[fn_name](real) / out_scale) + out_zp, lo, hi).astype(np.int64)


def act16_table(fn_name: str) -> np.ndarray:
    """The shared 4097-entry Q0.15 table of a 16-bit tanh / sigmoid."""
    r = ACT16_RANGE[fn_name]
    j = np.arange((1 << ACT16_TABLE_BITS) + 1, dtype=np.float64)
    step = 1 << (ACT16_DOMAIN_BITS + 1 - ACT16_TABLE_BITS)
    x = r * (j * step - (1 << ACT16_DOMAIN_BITS)) / (1 << ACT16_DOMAIN_BITS)
    return np.rint(32767.0 * FUNCTIONS[fn_name](x)).astype(np.int64)

"""binary16 and bfloat16: rounding float32 values to them (nearest even) and their 16-bit codes.
Bit-exact with runtime_c/ref/wn_half.h."""

from __future__ import annotations

import numpy as np

FORMATS = {"fp16": 0, "bf16": 1}


def bf16_bits(x: np.ndarray) -> np.ndarray:
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    nan = (u & 0x7FFFFFFF) > 0x7F800000
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF
    return np.where(nan, (u >> 16) | 0x40, rounded).astype(np.uint16)


def bits(x: np.ndarray, dtype: str) -> np.ndarray:
    """16-bit codes of float32 values."""
    if dtype == "fp16":
        return np.asarray(x, np.float32).astype(np.float16).view(np.uint16)
    return bf16_bits(x)


def round_to(x: np.ndarray, dtype: str) -> np.ndarray:
    """float32 values rounded to the format and back (exact)."""
    if dtype == "fp16":
        return np.asarray(x, np.float32).astype(np.float16).astype(np.float32)
    b = bf16_bits(x).astype(np.uint32) << 16
    return b.view(np.float32).reshape(np.shape(x))

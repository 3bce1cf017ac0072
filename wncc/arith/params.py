"""Typed parameters of the integer ops, as integer preparation (passes/qprepare.py) computes them
and the golden model, the weight tables and the emitters read them (``node.attrs["q"]``).

The blocks that the C kernels read as a struct derive from ``CStruct``: their fields are the C
struct's fields of runtime_c/include/wn_runtime.h in the same order, so the initializer is
written from the dataclass (``c_values``) and tests/arith/test_params.py fails when the two
disagree.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np


class CStruct:
    """A parameter block with the fields of the C struct ``C_NAME``, in its order (all int32)."""

    C_NAME: ClassVar[str]

    def c_values(self) -> np.ndarray:
        return np.array([getattr(self, f.name) for f in dataclasses.fields(self)], np.int32)


@dataclass(frozen=True)
class AddQ(CStruct):
    """Add of two quantized tensors, TFLite/CMSIS-NN style: both inputs shifted left, rescaled
    to twice the larger scale, summed and rescaled to the output."""

    C_NAME: ClassVar[str] = "wn_add_q"
    left_shift: int
    a_mult: int
    a_shift: int
    b_mult: int
    b_shift: int
    out_mult: int
    out_shift: int
    zp_a: int
    zp_b: int
    zp_out: int


@dataclass(frozen=True)
class MulQ(CStruct):
    """(a - zp_a) * (b - zp_b) requantized; a scale by a constant has b = c and zp_b = 0."""

    C_NAME: ClassVar[str] = "wn_mul_q"
    mult: int
    shift: int
    zp_a: int
    zp_b: int
    zp_out: int
    c: int = 1


@dataclass(frozen=True)
class RescaleQ(CStruct):
    """A new scale and zero point for the same values (requantize; relu clamps at zp_in)."""

    C_NAME: ClassVar[str] = "wn_rescale_q"
    mult: int
    shift: int
    zp_in: int
    zp_out: int


@dataclass(frozen=True)
class Act16Q(CStruct):
    """16-bit tanh / sigmoid: input rescaled onto the shared table's domain, output requantized."""

    C_NAME: ClassVar[str] = "wn_act16_q"
    in_mult: int
    in_shift: int
    zp_in: int
    out_mult: int
    out_shift: int
    zp_out: int


@dataclass(frozen=True)
class ActQ:
    """tanh or sigmoid: a 256-entry table (8-bit) or the shared interpolated table (16-bit)."""

    fn: str  # "tanh" or "sigmoid"
    lut: np.ndarray | None = None
    act16: Act16Q | None = None


@dataclass(frozen=True)
class GateQ:
    """tanh(a[tanh_at:]) * sigmoid(a[sigmoid_at:]), the product requantized by ``mul`` (whose
    zero points are the tanh and sigmoid outputs')."""

    tanh: ActQ
    sigmoid: ActQ
    mul: MulQ


@dataclass(frozen=True)
class ConvQ:
    """An integer convolution: weights, biases with sum(w) * zp_in folded in, per-channel (or
    shared) multipliers and shifts."""

    w: np.ndarray  # integer weights, [Cout, Cin, K] (convt: [Cin, Cout, hop])
    bias: np.ndarray
    mult: np.ndarray
    shift: np.ndarray
    zp_in: int
    zp_out: int
    w_bits: int


@dataclass(frozen=True)
class EmbedQ:
    """The embedding table quantized to the output tensor's parameters."""

    table: np.ndarray


@dataclass(frozen=True)
class OnehotQ:
    """The quantized values of a one-hot's off and on entries (the calls spell them out)."""

    off: int
    on: int


@dataclass(frozen=True)
class QuantizeQ:
    """QuantizeLinear of a float tensor: round(x / scale) + zp, saturated."""

    scale: np.float32
    zp: int


QParams = AddQ | MulQ | RescaleQ | ActQ | GateQ | ConvQ | EmbedQ | QuantizeQ

"""The seven precisions, named once: the user's word (``--dtype int16x8``), the IR's activation
type (``i16``), the weights' bits, and the C kernels' suffix (``s8s16``) are columns of one table
instead of three vocabularies (ARITHMETIC.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Precision:
    name: str  # --dtype
    activation: str  # IR tensor dtype: f32, i8, i16
    weight_bits: int  # stored bits per weight
    kernel: str  # C kernel suffix of its convolutions: f32, h16, s8, s4, s16, s8s16
    sparse: bool  # sparse weight storage exists for it

    @property
    def integer(self) -> bool:
        return self.activation != "f32"


PRECISIONS = {p.name: p for p in (
    Precision("fp32", "f32", 32, "f32", True),
    Precision("fp16", "f32", 16, "h16", False),
    Precision("bf16", "f32", 16, "h16", False),
    Precision("int8", "i8", 8, "s8", True),
    Precision("int4", "i8", 4, "s4", True),
    Precision("int16x8", "i16", 8, "s8s16", True),
    Precision("int16", "i16", 16, "s16", False),
)}
DTYPES = tuple(PRECISIONS)
INTEGER = tuple(name for name, p in PRECISIONS.items() if p.integer)
SPARSE = tuple(name for name, p in PRECISIONS.items() if p.sparse)
# the C suffix of an elementwise kernel and of an integer convolution, by IR types
ACT_KERNEL = {"f32": "f32", "i8": "s8", "i16": "s16"}
CONV_KERNEL = {(p.activation, p.weight_bits): p.kernel for p in PRECISIONS.values() if p.integer}

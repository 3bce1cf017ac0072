"""How integer weights and parameters are laid out in the tables the C kernels read: the pieces
every op module's ``entries`` shares (codegen/weights.py assembles the tables)."""

from __future__ import annotations

import dataclasses

import numpy as np

from wncc.arith.params import ConvQ, CStruct
from wncc.errors import WnccError
from wncc.ir import Node
from wncc.ops.base import Entry

INT_CTYPES = {8: "int8_t", 16: "int16_t", 32: "int32_t", 64: "int64_t"}
ACT_BITS = {"i8": 8, "i16": 16}


def pack_int4(values: np.ndarray) -> np.ndarray:
    """Two int4 values per byte, element j in byte j // 2, low nibble first."""
    v = (values.reshape(-1).astype(np.int64) & 0xF).astype(np.uint8)
    if v.size % 2:
        v = np.append(v, np.uint8(0))
    return (v[0::2] | (v[1::2] << 4)).astype(np.uint8)


def narrow_bias(bias: np.ndarray, acc_bits: int) -> np.ndarray:
    """A layer's biases in the narrowest signed type that holds them all (at most the
    accumulator's), or an empty array when they are all zero (the kernel then adds none)."""
    b = np.asarray(bias, dtype=np.int64).reshape(-1)
    if not np.any(b):
        return np.zeros(0, np.int8)
    for width in (8, 16, 32):
        if width < acc_bits and -(1 << (width - 1)) <= b.min() and b.max() < 1 << (width - 1):
            return b.astype(f"int{width}")
    return b.astype(f"int{acc_bits}")


def shared_requant(mult: np.ndarray, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (multiplier, shift) arrays, or one pair when every channel has the same
    (per-tensor weight scales); shifts as int8 (QuantizeMultiplier gives -31..30)."""
    m = np.asarray(mult, dtype=np.int64).reshape(-1)
    e = np.asarray(shift, dtype=np.int64).reshape(-1)
    if e.size and (e.min() < -128 or e.max() > 127):
        raise WnccError(f"requantization shift {int(e.min())}..{int(e.max())} does not fit int8")
    if m.size > 1 and np.all(m == m[0]) and np.all(e == e[0]):
        m, e = m[:1], e[:1]
    return m.astype(np.int32), e.astype(np.int8)


def trimmed_lut(lut: np.ndarray) -> tuple[np.ndarray, int, int]:
    """An int8 table without its saturated tails: (entries first..last, first, last); the
    entries before first equal entry first, those after last equal entry last."""
    v = np.asarray(lut, dtype=np.int64).reshape(-1)
    first, last = 0, v.size - 1
    while first < last and v[first + 1] == v[first]:
        first += 1
    while last > first and v[last - 1] == v[last]:
        last -= 1
    return v[first:last + 1].astype(np.int8), first, last


def sparse_storage(node: Node):
    """The node's storage choice when it is not dense, else None."""
    choice = node.attrs.get("storage")
    return choice if choice is not None and choice.fmt.kind != "dense" else None


def sparse_entries(node: Node, value_bits: int, value_role: str = "weight"
                   ) -> list[Entry]:
    enc = node.attrs["storage"].encoded
    values = enc.arrays["values"]
    if value_bits == 4:
        stored = ("values", "uint8_t", pack_int4(values), value_role, False)
    elif value_bits == 32:
        stored = ("values", "float", values.astype(np.float32), value_role, False)
    else:
        stored = ("values", INT_CTYPES[value_bits], values.astype(f"int{value_bits}"), value_role,
                  False)
    out = [stored]
    for key in ("row_ptr", "col", "mask"):
        if key in enc.arrays:
            a = enc.arrays[key]
            out.append((key, f"{a.dtype.name}_t", a, "index", False))
    return out


def struct(key: str, q: CStruct) -> Entry:
    """A parameter block written from its dataclass (the C struct's field order)."""
    return (key, q.C_NAME, q.c_values(), "params", True)


@dataclasses.dataclass(frozen=True)
class Layout:
    """The order a target's packed int8 convolution reads its weights in
    (runtime_c/<isa>/wn_conv_<name>_s8.c): rows (output channels) in blocks of ``rows``, padded
    with zero rows; each input segment (a ring convolution's tap, or a pointwise one's input) in
    groups of ``group`` bytes, padded with zero weights; blocks taken in passes of up to
    ``pass_blocks``, and within a pass [segment][group][block][row][byte]. ``biased``: the
    kernel's activations carry + 128 (VPDPBUSD's unsigned operand), so the biases take
    128 * sum w off."""

    name: str
    rows: int
    group: int
    pass_blocks: int
    biased: bool


LAYOUTS = {
    "vnni": Layout("vnni", 16, 4, 8, True),  # AVX-512 VNNI: 16 int32 lanes, VPDPBUSD quads
    "dsp4": Layout("dsp4", 4, 4, 1, False),  # Armv7E-M DSP: 4 rows, a word (SXTB16 + SMLAD)
    "mve4": Layout("mve4", 4, 16, 1, False),  # Helium: 4 rows, a vector (VMLADAVA)
    "sdot": Layout("sdot", 4, 4, 8, False),  # AArch64 dot product: 4 int32 lanes, SDOT quads
}


def pack_lanes(w: np.ndarray, layout: Layout) -> np.ndarray:
    """int8 weights [cout, segments, n] in the layout's order (zero weights in the padding)."""
    cout, segments, n = w.shape
    rows, group = layout.rows, layout.group
    blocks, groups = -(-cout // rows), -(-n // group)
    padded = np.zeros((blocks * rows, segments, groups * group), np.int8)
    padded[:cout, :, :n] = w
    parts = []
    for first in range(0, blocks, layout.pass_blocks):
        nb = min(layout.pass_blocks, blocks - first)
        part = padded[first * rows:(first + nb) * rows].reshape(nb, rows, segments, groups, group)
        parts.append(part.transpose(2, 3, 0, 1, 4).reshape(-1))
    return np.concatenate(parts)


def packed_entries(q: ConvQ, w: np.ndarray, layout: Layout) -> list[Entry]:
    """A packed int8 convolution's tables (w [cout, segments, n]): the packed weights, int32
    biases and per-channel multipliers and shifts, all padded to whole blocks (the kernels read a
    block's parameters without tests). A biased layout's biases take 128 * sum w off (modulo
    2^32, as the kernel's sums are)."""
    cout = w.shape[0]
    rows = -(-cout // layout.rows) * layout.rows

    def padded(values: np.ndarray, dtype: str) -> np.ndarray:
        out = np.zeros(rows, np.int64)
        out[:cout] = np.broadcast_to(np.asarray(values, np.int64).reshape(-1), (cout,))
        return out.astype(dtype)

    bias = padded(q.bias, "int64")
    if layout.biased:
        bias -= 128 * np.pad(w.astype(np.int64).sum(axis=(1, 2)), (0, rows - cout))
    wrapped = ((bias + 2 ** 31) % 2 ** 32 - 2 ** 31).astype(np.int32)
    return [("w", "int8_t", pack_lanes(w.astype(np.int8), layout), "weight", False),
            ("b", "int32_t", wrapped, "bias", False),
            ("mult", "int32_t", padded(q.mult, "int32"), "scale", False),
            ("shift", "int8_t", padded(q.shift, "int8"), "scale", False)]


def requant_entries(q: ConvQ, acc_bits: int) -> list[Entry]:
    """The arrays of an integer convolution's wn_rq besides its weights: the narrowest biases
    (none when all are zero) and the (shared) multipliers and shifts."""
    out: list[Entry] = []
    bias = narrow_bias(q.bias, acc_bits)
    if bias.size:
        out.append(("b", INT_CTYPES[8 * bias.itemsize], bias, "bias", False))
    mult, shift = shared_requant(q.mult, q.shift)
    out.append(("mult", "int32_t", mult, "scale", False))
    out.append(("shift", "int8_t", shift, "scale", False))
    return out


def conv_entries(q: ConvQ, layout: np.ndarray, node: Node, acc_bits: int) -> list[Entry]:
    """An integer convolution's weights (dense in kernel order, packed int4, or sparse), its
    narrowest biases and its (shared) multipliers and shifts: the arrays of its wn_rq."""
    out: list[Entry] = []
    if sparse_storage(node):
        out.extend(sparse_entries(node, q.w_bits))
    elif q.w_bits == 4:
        out.append(("w", "uint8_t", pack_int4(layout), "weight", False))
    else:
        bits = 16 if q.w_bits == 16 else 8
        out.append(("w", INT_CTYPES[bits], layout.reshape(-1).astype(f"int{bits}"), "weight", False))
    return out + requant_entries(q, acc_bits)

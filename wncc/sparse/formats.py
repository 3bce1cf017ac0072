"""Sparse storage of a weight matrix [rows = Cout, cols = K * Cin] (columns tap-major, the order
the kernels accumulate in), with the narrowest index types that fit.

* ``dense``   - all values.
* ``csr``     - row_ptr[rows + 1], col[nnz], values[nnz].
* ``bsr:RxC`` - blocks of R rows x C columns kept whole: block_ptr[rows / R + 1],
                block_col[nblocks] (in block units), values[nblocks * R * C] (row-major blocks).
* ``bitmask`` - one bit per weight (rows x ceil(cols / 8) bytes, bit j % 8 of byte j / 8) and the
                nonzero values in row order.

Values keep their precision: float32, int8, int16, or int4 packed two per byte in stored order.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from wncc.errors import WnccError

FORMAT_RE = re.compile(r"^(dense|csr|bitmask|bsr:(\d+)x(\d+))$")


@dataclasses.dataclass(frozen=True)
class Format:
    kind: str  # dense, csr, bsr, bitmask
    block: tuple[int, int] = (1, 1)

    @property
    def name(self) -> str:
        return f"bsr:{self.block[0]}x{self.block[1]}" if self.kind == "bsr" else self.kind


def parse(text: str) -> Format:
    m = FORMAT_RE.match(text.strip())
    if not m:
        raise WnccError(f"unknown sparse format '{text}' (dense, csr, bitmask, bsr:RxC)")
    if m.group(2):
        r, c = int(m.group(2)), int(m.group(3))
        if r < 1 or c < 1:
            raise WnccError(f"block shape {r}x{c} must be positive")
        return Format("bsr", (r, c))
    return Format(m.group(1))


def index_type(max_value: int) -> tuple[str, np.dtype]:
    if max_value <= 0xFF:
        return "uint8_t", np.dtype(np.uint8)
    if max_value <= 0xFFFF:
        return "uint16_t", np.dtype(np.uint16)
    return "uint32_t", np.dtype(np.uint32)


@dataclasses.dataclass
class Encoded:
    """Arrays of one stored matrix: name -> values (their numpy dtype gives the C type)."""

    fmt: Format
    rows: int
    cols: int
    nnz: int  # stored values (with the zeros inside kept blocks)
    arrays: dict[str, np.ndarray]
    value_bits: int

    def value_bytes(self) -> int:
        return -(-self.nnz * self.value_bits // 8)

    def index_bytes(self) -> int:
        return sum(int(a.nbytes) for k, a in self.arrays.items() if k != "values")


def fits(fmt: Format, rows: int, cols: int) -> bool:
    return fmt.kind != "bsr" or (rows % fmt.block[0] == 0 and cols % fmt.block[1] == 0)


def encode(matrix: np.ndarray, fmt: Format, value_bits: int) -> Encoded:
    """Encode a dense [rows, cols] matrix (values as given; packing of int4 happens in codegen)."""
    rows, cols = matrix.shape
    if fmt.kind == "dense":
        return Encoded(fmt, rows, cols, rows * cols, {"values": matrix.reshape(-1)}, value_bits)
    if fmt.kind == "csr":
        mask = matrix != 0
        counts = mask.sum(axis=1)
        ptr = np.concatenate([[0], np.cumsum(counts)])
        _, col = np.nonzero(mask)
        _, ptr_t = index_type(int(ptr[-1]))
        _, col_t = index_type(max(cols - 1, 0))
        return Encoded(fmt, rows, cols, int(ptr[-1]),
                       {"row_ptr": ptr.astype(ptr_t), "col": col.astype(col_t),
                        "values": matrix[mask]}, value_bits)
    if fmt.kind == "bsr":
        r, c = fmt.block
        if not fits(fmt, rows, cols):
            raise WnccError(f"block {r}x{c} does not divide a {rows}x{cols} weight matrix")
        blocks = matrix.reshape(rows // r, r, cols // c, c).transpose(0, 2, 1, 3)
        keep = np.any(blocks != 0, axis=(2, 3))
        ptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))])
        _, bcol = np.nonzero(keep)
        _, ptr_t = index_type(int(ptr[-1]))
        _, col_t = index_type(max(cols // c - 1, 0))
        values = blocks[keep].reshape(-1)
        return Encoded(fmt, rows, cols, int(values.size),
                       {"row_ptr": ptr.astype(ptr_t), "col": bcol.astype(col_t),
                        "values": values}, value_bits)
    if fmt.kind == "bitmask":
        mask = matrix != 0
        bits = np.packbits(mask, axis=1, bitorder="little")
        return Encoded(fmt, rows, cols, int(mask.sum()),
                       {"mask": bits.reshape(-1), "values": matrix[mask]}, value_bits)
    raise ValueError(fmt)


def decode(enc: Encoded) -> np.ndarray:
    """The dense matrix back (for tests and the golden model's view)."""
    rows, cols = enc.rows, enc.cols
    vals = enc.arrays["values"]
    out = np.zeros((rows, cols), vals.dtype)
    if enc.fmt.kind == "dense":
        return vals.reshape(rows, cols).copy()
    if enc.fmt.kind == "csr":
        ptr, col = enc.arrays["row_ptr"].astype(np.int64), enc.arrays["col"].astype(np.int64)
        for o in range(rows):
            out[o, col[ptr[o]:ptr[o + 1]]] = vals[ptr[o]:ptr[o + 1]]
        return out
    if enc.fmt.kind == "bsr":
        r, c = enc.fmt.block
        ptr, col = enc.arrays["row_ptr"].astype(np.int64), enc.arrays["col"].astype(np.int64)
        blocks = vals.reshape(-1, r, c)
        for br in range(rows // r):
            for b in range(ptr[br], ptr[br + 1]):
                out[br * r:(br + 1) * r, col[b] * c:(col[b] + 1) * c] = blocks[b]
        return out
    mask = np.unpackbits(enc.arrays["mask"].reshape(rows, -1), axis=1, bitorder="little")[:, :cols]
    out[mask.astype(bool)] = vals
    return out

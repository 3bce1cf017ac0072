"""The cost model that picks each weight matrix's storage for a target.

For every candidate format the matrix is actually encoded, so bytes are exact (values, indices,
pointers). Instructions are estimated from each kernel's characteristics on the target: the dense
kernel profits from the target's SIMD (DSP pairs, MVE, NEON, sdot, AVX2) while the sparse kernels
are scalar, so the crossover moves to higher sparsity on SIMD cores. On microcontrollers flash is
scarce and bytes weigh as much as instructions; elsewhere they weigh a quarter.

score = instructions / dense instructions + bytes_weight * bytes / dense bytes; lowest wins.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from wncc.sparse.formats import Encoded, Format, encode, fits

CANDIDATE_BLOCKS = ((1, 4), (4, 1), (4, 4), (8, 4), (16, 1))

# instructions per MAC of the dense int8 / fp32 kernels by ISA feature (scalar reference: ~3)
DENSE_PER_MAC = {"mve": 0.3, "neon_dotprod": 0.25, "avx2": 0.2, "neon": 0.6, "dsp": 1.6}


@dataclasses.dataclass(frozen=True)
class KernelCosts:
    dense_per_mac: float = 3.0
    per_row: float = 20.0  # bias, requantization, store, loop
    csr_per_nz: float = 5.0  # index load, indirect input load, weight load, multiply-add
    bsr_per_block: float = 8.0
    bsr_per_mac: float = 3.0
    bitmask_per_bit: float = 0.5  # per weight position (bits tested a byte at a time)
    bitmask_per_nz: float = 4.0
    bytes_weight: float = 0.25


def costs_for(target) -> KernelCosts:
    features = set(getattr(target, "features", ()))
    per_mac = min([DENSE_PER_MAC[f] for f in features if f in DENSE_PER_MAC], default=3.0)
    micro = target.name.startswith("cortex-m") or "-m" in getattr(target, "arch", "")
    return KernelCosts(dense_per_mac=per_mac, bytes_weight=1.0 if micro else 0.25)


def instructions(enc: Encoded, k: KernelCosts) -> float:
    rows, cols = enc.rows, enc.cols
    base = rows * k.per_row
    if enc.fmt.kind == "dense":
        return base + rows * cols * k.dense_per_mac
    if enc.fmt.kind == "csr":
        return base + enc.nnz * k.csr_per_nz
    if enc.fmt.kind == "bsr":
        r, c = enc.fmt.block
        blocks = enc.nnz // (r * c)
        return base + blocks * (k.bsr_per_block + r * c * k.bsr_per_mac)
    return base + rows * cols * k.bitmask_per_bit + enc.nnz * k.bitmask_per_nz


def stored_bytes(enc: Encoded) -> int:
    return enc.value_bytes() + enc.index_bytes()


@dataclasses.dataclass
class Choice:
    fmt: Format
    encoded: Encoded
    reason: str
    candidates: dict[str, dict]


def choose(matrix: np.ndarray, value_bits: int, target, forced: Format | None = None) -> Choice:
    rows, cols = matrix.shape
    k = costs_for(target)
    dense = encode(matrix, Format("dense"), value_bits)
    d_instr, d_bytes = instructions(dense, k), stored_bytes(dense)
    options = [Format("dense"), Format("csr"), Format("bitmask")]
    options += [Format("bsr", b) for b in CANDIDATE_BLOCKS if fits(Format("bsr", b), rows, cols)]
    if forced is not None and forced not in options:
        options.append(forced)
    table: dict[str, dict] = {}
    encoded: dict[str, Encoded] = {}
    for fmt in options:
        if not fits(fmt, rows, cols):
            continue
        enc = dense if fmt.kind == "dense" else encode(matrix, fmt, value_bits)
        instr, nbytes = instructions(enc, k), stored_bytes(enc)
        score = instr / d_instr + k.bytes_weight * nbytes / d_bytes
        table[fmt.name] = {"instructions": round(instr), "bytes": nbytes, "score": round(score, 4)}
        encoded[fmt.name] = enc
    density = float(np.count_nonzero(matrix)) / matrix.size
    if forced is not None:
        pick = forced.name
        why = "forced by --sparse"
    else:
        pick = min(table, key=lambda name: (table[name]["score"], name != "dense", name))
        why = "lowest score"
    t = table[pick]
    reason = (f"{why}: {100 * density:.1f}% nonzero; {pick} est. {t['instructions']:,} "
              f"instructions ({t['instructions'] / d_instr:.2f}x dense) and {t['bytes']:,} bytes "
              f"({t['bytes'] / d_bytes:.2f}x dense); score {t['score']:.3f} vs dense "
              f"{table['dense']['score']:.3f} (bytes weight {k.bytes_weight:g})")
    return Choice(Format("bsr", tuple(map(int, pick[4:].split("x")))) if pick.startswith("bsr")
                  else Format(pick), encoded[pick], reason, table)

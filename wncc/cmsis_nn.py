"""Optional CMSIS-NN backend (``--cmsis-nn PATH``): which layers call Arm's kernels, and why not.

With a CMSIS-NN checkout, dense int8 pointwise convolutions (``conv``) and dense int8 dilated
ring convolutions (``conv_ring``: the taps are gathered into the planned scratch vector, tap-major,
then one 1x1 product over kernel x Cin inputs, which is the [Cout][K][Cin] weight layout) are
computed by ``arm_convolve_1x1_s8_fast`` through the adapter ``runtime_c/cmsis/wn_cmsis_s8.c``;
the emitted Makefile compiles the kernel's sources from the checkout. Everything else (int4,
16-bit activations, transposed convolutions, sparse storage, elementwise ops) stays on the wncc
kernels.

Arithmetic, read from CMSIS-NN's ``arm_nnsupportfunctions.h`` (``arm_nn_requantize``, and
``arm_requantize_mve`` / ``arm_requantize_mve_32x4`` on Helium):

* default ("double rounding"): ``arm_nn_doubling_high_mult_no_sat`` is floor((a*b + 2^30) / 2^31),
  which equals TFLite's SaturatingRoundingDoublingHighMul for every multiplier but INT32_MIN
  (our Q31 multipliers are positive), and ``arm_nn_divide_by_power_of_two`` is gemmlowp's
  RoundingDivideByPOT, the same code as ``wn_rdbpot``; the Helium form (vqrdmulh, fix-up,
  vrshl) computes the same values. This is our ``--rounding double``.
* with ``CMSIS_NN_USE_SINGLE_ROUNDING``: floor((acc * m + 2^(30-shift)) / 2^(31-shift)), one
  rounded shift of the 64-bit product with ties up, our ``--rounding single``; the Makefile
  defines the macro for the CMSIS-NN sources exactly when the compile uses single rounding.

Two differences remain, both at int32 overflow: CMSIS-NN shifts the accumulator left in 32 bits
without saturating (``val * (1 << LEFT_SHIFT(shift))``), and its single-rounding paths truncate an
intermediate to 32 bits. A layer is therefore offloaded only when its accumulators provably stay
small: for every output channel o, (|bias[o]| + 128 * sum |w[o, :]|) * 2^(max(shift[o], 0) + 1)
< 2^31, which keeps every partial sum, the shifted accumulator and the intermediates inside int32.
The input zero point is already folded into our biases, so CMSIS-NN gets input_offset 0 and the
folded int32 biases; its lhs_offset terms vanish and the sums are the same integers.

int16x8 stays on the wncc kernels. Read in ``arm_convolve_s16.c`` (V.4.0.0, the only per-channel
s16 convolution; there is no s16 1x1 kernel): with an int32 bias it requantizes with the Q31
``arm_nn_requantize``, not our reduced-multiplier form; with an int64 bias it sums the products
in an int32 and applies ``arm_nn_requantize_s64`` = ((int32)(acc * m16 >> (14 - shift)) + 1) >> 1
with m16 = REDUCE_MULTIPLIER(mult), our ``requant64`` whenever the partial sums and that
intermediate fit in 32 bits. So it could be offloaded under a bound like the one above, but it
also needs an im2col context buffer and its DSP/Helium helpers (``arm_nn_mat_mult_kernel_s16``,
``arm_nn_mat_mult_nt_t_s16``), which were not reviewed; it is not implemented.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from wncc.arith.params import ConvQ
from wncc.errors import WnccError
from wncc.ir import Graph, Node

HEADER = "Include/arm_nnfunctions.h"
# the kernel the adapter calls and the support function it uses (CMSIS-NN v6-era layout)
SOURCES = ("Source/ConvolutionFunctions/arm_convolve_1x1_s8_fast.c",
           "Source/NNSupportFunctions/arm_nn_mat_mult_nt_t_s8.c")
FUNCTION = "arm_convolve_1x1_s8_fast"
ADAPTER = "wn_cmsis_s8.c"
INT32_LIMIT = 1 << 31


@dataclasses.dataclass(frozen=True)
class Checkout:
    path: str  # absolute
    version: str  # "$Revision" and "$Date" of arm_nnfunctions.h, or "unknown"

    def report(self) -> dict:
        return {"path": self.path, "version": self.version, "function": FUNCTION,
                "sources": list(SOURCES)}


def checkout(path: str | Path) -> Checkout:
    """A CMSIS-NN checkout: its Include/arm_nnfunctions.h and the sources the backend compiles."""
    root = Path(path).expanduser()
    header = root / HEADER
    if not header.is_file():
        raise WnccError(f"not a CMSIS-NN checkout: no {HEADER}", path=str(path))
    missing = [s for s in SOURCES if not (root / s).is_file()]
    if missing:
        raise WnccError(f"CMSIS-NN checkout lacks {', '.join(missing)} (needed for {FUNCTION})",
                        path=str(path))
    text = header.read_text(errors="replace")
    if FUNCTION not in text:
        raise WnccError(f"{HEADER} does not declare {FUNCTION}", path=str(path))
    rev = re.search(r"\$Revision:\s*(\S+)", text)
    date = re.search(r"\$Date:\s*([^\n*]+)", text)
    version = " ".join(p for p in (rev.group(1) if rev else "", f"({date.group(1).strip()})"
                                   if date else "") if p) or "unknown"
    return Checkout(str(root.resolve()), version)


def accumulator_bound(q: ConvQ) -> np.ndarray:
    """Per output channel, the largest |accumulator| any int8 input can produce:
    |bias| + 128 * sum |w| (the input zero point is folded into the bias)."""
    w = np.abs(np.asarray(q.w, dtype=np.int64)).reshape(q.w.shape[0], -1)
    return np.abs(np.asarray(q.bias, dtype=np.int64).reshape(-1)) + 128 * w.sum(axis=1)


def exact(q: ConvQ) -> bool:
    """CMSIS-NN's requantization equals ours for every input (see the module docstring)."""
    bound = accumulator_bound(q)
    shift = np.broadcast_to(np.asarray(q.shift, dtype=np.int64).reshape(-1), bound.shape)
    return bool(np.all(bound << (np.maximum(shift, 0) + 1) < INT32_LIMIT))


def reason(graph: Graph, node: Node) -> str | None:
    """Why a convolution stays on the wncc kernels, or None when CMSIS-NN computes it."""
    q = node.attrs.get("q")
    if q is None:
        return "float layer"
    out = graph.tensors[node.outputs[0]].dtype
    if out != "i8" or q.w_bits != 8:
        return "not int8 weights and activations (CMSIS-NN s8 kernels only)"
    choice = node.attrs.get("storage")
    if choice is not None and choice.fmt.kind != "dense":
        return f"sparse storage ({choice.fmt.name})"
    if not exact(q):
        return "accumulator bound exceeds int32 after the requantization shift (not exact)"
    return None


def assign(graph: Graph, source: Checkout | None) -> Graph:
    """Mark the convolutions CMSIS-NN computes (``attrs["cmsis_nn"]``) and keep the reason of
    the others (``attrs["cmsis_nn_reason"]``); record the checkout on the graph."""
    graph.cmsis_nn = source.report() if source is not None else None
    for node in graph.nodes:
        node.attrs.pop("cmsis_nn", None)
        node.attrs.pop("cmsis_nn_reason", None)
        if source is None or node.op not in ("conv", "conv_ring", "convt"):
            continue
        why = "transposed convolution" if node.op == "convt" else reason(graph, node)
        if why is None:
            node.attrs["cmsis_nn"] = True
        else:
            node.attrs["cmsis_nn_reason"] = why
    return graph


def offloaded(node: Node) -> bool:
    return bool(node.attrs.get("cmsis_nn"))

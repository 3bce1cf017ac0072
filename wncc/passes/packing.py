"""Packed convolutions: the dense int8 convolutions that run on a target's packed kernel.

A target whose ``[isa] packed`` names a layout (wncc/ops/layout.py LAYOUTS: "vnni" for
runtime_c/avx512_vnni/wn_conv_vnni_s8.c, "dsp4" for runtime_c/dsp/wn_conv_dsp4_s8.c, "mve4" for
runtime_c/mve/wn_conv_mve4_s8.c, "sdot" for runtime_c/neon_dotprod/wn_conv_sdot_s8.c) gets its dense int8 pointwise and ring convolutions marked
``attrs["packed"]``: their weights are stored in the order that kernel reads them (pack_lanes)
and the emitted C calls it instead of the reference kernel. The arithmetic is the reference's, bit for bit (the
kernel's comment says why). Everything else keeps the reference layout: sparse storage,
CMSIS-NN layers, transposed and multi-tap frame-rate convolutions, other precisions.
"""

from __future__ import annotations

from wncc.ir import Graph, Node
from wncc.ops.base import is_sparse
from wncc.targets import Target

MAX_TAPS = 16  # the packed ring kernels' tap pointers


def packable(graph: Graph, node: Node) -> bool:
    """A dense int8 x int8 pointwise or ring convolution of at most MAX_TAPS taps."""
    if node.op not in ("conv", "conv_ring") or "q" not in node.attrs:
        return False
    if node.attrs["q"].w_bits != 8 or is_sparse(node) or node.attrs.get("cmsis_nn"):
        return False
    if any(graph.tensors[t].dtype != "i8" for t in (node.inputs[0], node.outputs[0])):
        return False
    if node.op == "conv_ring":
        return node.attrs["kernel"] <= MAX_TAPS
    return node.op == "conv" and node.attrs.get("kernel", 1) == 1


def assign(graph: Graph, target: Target) -> Graph:
    """Mark the convolutions the target's packed kernel computes."""
    for node in graph.nodes:
        node.attrs.pop("packed", None)
        if target.packed is not None and packable(graph, node):
            node.attrs["packed"] = target.packed
    return graph

"""The C call of each node, by its op module (wncc/ops/): what is left here is what every op
shares, the 16-bit float rounding after a call and the comment above it.

Lowering decided what to compute and where (IR, memory plan); the op modules only spell it in C.
Float nodes call the ``_f32`` kernels; integer nodes (those with ``attrs["q"]``) call the kernel
of their weight/activation types: ``s8`` (int8), ``s4`` (int4 weights), ``s16`` (int16),
``s8s16`` (int8 weights, int16 activations).
"""

from __future__ import annotations

import dataclasses

from wncc import ops
from wncc.ir import Graph, Node
from wncc.ops.base import Context


@dataclasses.dataclass
class Call:
    """One emitted statement of a program and the comment above it."""

    comment: str
    code: str


def emit(node: Node, ctx: Context) -> str:
    return ops.of(node).emit(node, ctx)


def kernel_sources(node: Node, ctx: Context) -> tuple[str, ...]:
    """Runtime sources a node needs (wn_sample.c is always used)."""
    return ops.of(node).kernels(node, ctx)


def round_after(node: Node, ctx: Context) -> str:
    """fp16/bf16: the call that rounds a node's output to the 16-bit format."""
    if ctx.half is None or node.op in ("slice", "upsample"):
        return ""
    t = ctx.graph.tensors[node.outputs[0]]
    rows = 1 if ctx.row is not None else ctx.plan.locations[node.outputs[0]].rows
    y = ctx.buf(node.outputs[0])
    return f"wn_round_h16({y}, {rows * t.channels}, {ctx.half});"


def describe(node: Node, graph: Graph) -> str:
    """A one-line comment for the emitted call."""
    label = node.attrs.get("label", node.name)
    extra = ""
    if node.op == "conv_ring":
        extra = f" k={node.attrs['kernel']} d={node.attrs['dilation']}"
    if node.attrs.get("cmsis_nn"):
        extra += " (CMSIS-NN)"
    t = graph.tensors[node.outputs[0]]
    return f"{label}: {node.op}{extra} -> {node.outputs[0]} [{t.rate.name.lower()}, {t.dtype}]"

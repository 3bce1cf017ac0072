"""onehot: the sample input's class as a vector of ``depth`` channels, ``on`` at the class and
``off`` elsewhere (a one-hot samples input, or a one-hot built in the graph). A 1x1 convolution
of it is an embedding lookup (passes/onehot.py rewrites it so); what stays is a one-hot that
feeds a wider convolution."""

from __future__ import annotations

import numpy as np

from wncc.arith.params import OnehotQ
from wncc.ir import Graph, Node
from wncc.ops.base import Context, Eval, Op, StepBuilder, act_suffix, register
from wncc.ops.quantize import output_quantize, quantize_int


@register
class Onehot(Op):
    names = ("onehot",)

    def params(self, graph: Graph, node: Node) -> OnehotQ:
        """The off and on values quantized as QuantizeLinear would quantize them."""
        values = np.array([node.attrs["off"], node.attrs["on"]])
        off, on = quantize_int(output_quantize(graph, node), values,
                               graph.tensors[node.outputs[0]].dtype)
        return OnehotQ(int(off), int(on))

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        hit = ins[0][0][None, :] == np.arange(node.attrs["depth"])[:, None]
        if ev.integer:
            q = node.attrs["q"]
            return np.where(hit, q.on, q.off).astype(np.int64)
        return np.where(hit, np.float32(node.attrs["on"]), np.float32(node.attrs["off"]))

    def step(self, node: Node, ins: list[str], b: StepBuilder, graph: Graph) -> str:
        depth = node.attrs["depth"]
        table = np.where(np.eye(depth, dtype=bool), np.float32(node.attrs["on"]),
                         np.float32(node.attrs["off"]))[None]  # [1, depth, class]
        return b.node("Gather", [b.const(table.astype(np.float32)), ins[0]], axis=2)

    def emit(self, node: Node, ctx: Context) -> str:
        y, x, c = ctx.io(node)
        sfx = act_suffix(node, ctx)
        if sfx == "f32":
            off, on = (f"{float(np.float32(node.attrs[k])).hex()}f" for k in ("off", "on"))
        else:
            off, on = node.attrs["q"].off, node.attrs["q"].on
        return f"wn_onehot_{sfx}({y}, {x}, {c}, {off}, {on});"

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        return (f"wn_eltwise_{act_suffix(node, ctx)}.c",)

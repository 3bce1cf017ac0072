"""add_const: a tensor plus a per-channel constant (a bias that did not fold into a conv)."""

from __future__ import annotations

import numpy as np

from wncc.ir import Graph, Node
from wncc.ops.base import Context, Eval, Op, StepBuilder, register


@register
class AddConst(Op):
    names = ("add_const",)

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        return ins[0] + node.weights["b"][:, None]

    def step(self, node: Node, ins: list[str], b: StepBuilder, graph: Graph) -> str:
        return b.node("Add", [ins[0], b.channel_vector(node.weights["b"])])

    def emit(self, node: Node, ctx: Context) -> str:
        y, x, c = ctx.io(node)
        if ctx.half is not None:
            return f"wn_add_const_h16({y}, {x}, {ctx.weight(node, 'b')}, {c}, {ctx.half});"
        return f"wn_add_const_f32({y}, {x}, {ctx.weight(node, 'b')}, {c});"

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        return ("wn_conv_h16.c",) if ctx.half is not None else ("wn_eltwise_f32.c",)

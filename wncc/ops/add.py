"""add: the sum of two tensors (residual and skip connections). Integer: TFLite/CMSIS-NN style,
both inputs shifted left (20 bits for int8, 15 for int16), rescaled to twice the larger scale,
summed and rescaled to the output."""

from __future__ import annotations

import numpy as np

from wncc.arith.params import AddQ
from wncc.arith.qmath import clamp, requant
from wncc.ir import Graph, Node, QuantParams
from wncc.ops.base import (Context, Entry, Eval, Op, StepBuilder, act_suffix, one_multiplier,
                           register)
from wncc.ops.layout import struct

LEFT_SHIFT = {"i8": 20, "i16": 15}


def binary_call(fn: str, node: Node, ctx: Context) -> str:
    """The call of an element-wise kernel of two inputs (add, mul)."""
    a, b = (ctx.buf(t) for t in node.inputs)
    sfx = act_suffix(node, ctx)
    params = "" if sfx == "f32" else f", &{ctx.weight(node, 'q')}"
    return f"{fn}_{sfx}({ctx.buf(node.outputs[0])}, {a}, {b}, {ctx.channels(node.outputs[0])}{params});"


def eltwise_kernels(node: Node, ctx: Context) -> tuple[str, ...]:
    """The element-wise kernel file of a node's type (f32, s8, s16)."""
    return (f"wn_eltwise_{act_suffix(node, ctx)}.c",)


def add_params(qa: QuantParams, qb: QuantParams, qout: QuantParams, dtype: str) -> AddQ:
    left = LEFT_SHIFT[dtype]
    twice_max = 2.0 * max(qa.scale, qb.scale)
    am, ash = one_multiplier(qa.scale / twice_max)
    bm, bsh = one_multiplier(qb.scale / twice_max)
    om, osh = one_multiplier(twice_max / ((1 << left) * qout.scale))
    return AddQ(left, am, ash, bm, bsh, om, osh, qa.zero_point, qb.zero_point, qout.zero_point)


@register
class Add(Op):
    names = ("add",)

    def params(self, graph: Graph, node: Node) -> AddQ:
        qa, qb = (graph.tensors[t].quant for t in node.inputs)
        out = graph.tensors[node.outputs[0]]
        return add_params(qa, qb, out.quant, out.dtype)

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        if not ev.integer:
            return ins[0] + ins[1]
        q, rnd = node.attrs["q"], ev.rounding
        sa = (ins[0].astype(np.int64) - q.zp_a) << q.left_shift
        sb = (ins[1].astype(np.int64) - q.zp_b) << q.left_shift
        ra = requant(sa, q.a_mult, q.a_shift, rnd)
        rb = requant(sb, q.b_mult, q.b_shift, rnd)
        return clamp(requant(ra + rb, q.out_mult, q.out_shift, rnd) + q.zp_out, ev.dtype)

    def step(self, node: Node, ins: list[str], b: StepBuilder, graph: Graph) -> str:
        return b.node("Add", ins)

    def emit(self, node: Node, ctx: Context) -> str:
        return binary_call("wn_add", node, ctx)

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        return eltwise_kernels(node, ctx)

    def entries(self, graph: Graph, node: Node) -> list[Entry]:
        return [struct("q", node.attrs["q"])]

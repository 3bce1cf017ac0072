"""mul: the product of two tensors; integer: (a - zp_a) * (b - zp_b) requantized."""

from __future__ import annotations

import numpy as np

from wncc.arith.params import MulQ
from wncc.arith.qmath import clamp, requant
from wncc.ir import Graph, Node, QuantParams
from wncc.ops.add import binary_call, eltwise_kernels
from wncc.ops.base import Context, Entry, Eval, Op, StepBuilder, one_multiplier, register
from wncc.ops.layout import struct


def mul_params(qa: QuantParams, qb: QuantParams, qout: QuantParams, c: int = 1) -> MulQ:
    m, sh = one_multiplier(qa.scale * qb.scale / qout.scale)
    return MulQ(m, sh, qa.zero_point, qb.zero_point, qout.zero_point, c)


def mul_int(q: MulQ, a: np.ndarray, b: np.ndarray, dtype: str, rounding: str) -> np.ndarray:
    acc = (a.astype(np.int64) - q.zp_a) * (b.astype(np.int64) - q.zp_b)
    return clamp(requant(acc, q.mult, q.shift, rounding) + q.zp_out, dtype)


@register
class Mul(Op):
    names = ("mul",)

    def params(self, graph: Graph, node: Node) -> MulQ:
        qa, qb = (graph.tensors[t].quant for t in node.inputs)
        return mul_params(qa, qb, graph.tensors[node.outputs[0]].quant)

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        if not ev.integer:
            return ins[0] * ins[1]
        return mul_int(node.attrs["q"], ins[0], ins[1], ev.dtype, ev.rounding)

    def step(self, node: Node, ins: list[str], b: StepBuilder, graph: Graph) -> str:
        return b.node("Mul", ins)

    def emit(self, node: Node, ctx: Context) -> str:
        return binary_call("wn_mul", node, ctx)

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        return eltwise_kernels(node, ctx)

    def entries(self, graph: Graph, node: Node) -> list[Entry]:
        return [struct("q", node.attrs["q"])]

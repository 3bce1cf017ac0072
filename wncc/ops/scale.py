"""scale: a tensor times a constant (residual and skip scaling such as sqrt(0.5)); integer:
(x - zp) * c with c = +-1 and |constant| folded into the multiplier."""

from __future__ import annotations

import numpy as np

from wncc.arith.params import MulQ
from wncc.arith.qmath import clamp, requant
from wncc.ir import Graph, Node, QuantParams
from wncc.ops.add import eltwise_kernels
from wncc.ops.base import Context, Entry, Eval, Op, StepBuilder, act_suffix, register
from wncc.ops.layout import struct
from wncc.ops.mul import mul_params


@register
class Scale(Op):
    names = ("scale",)

    def params(self, graph: Graph, node: Node) -> MulQ:
        c_int, c_scale = node.attrs.get("c_int"), node.attrs.get("c_scale")
        if c_int is None:
            value = node.attrs["value"]
            c_int, c_scale = (1 if value >= 0 else -1), abs(value)
        return mul_params(graph.tensors[node.inputs[0]].quant, QuantParams(c_scale, 0),
                          graph.tensors[node.outputs[0]].quant, int(c_int))

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        if not ev.integer:
            return ins[0] * np.float32(node.attrs["value"])
        q = node.attrs["q"]
        acc = (ins[0].astype(np.int64) - q.zp_a) * q.c
        return clamp(requant(acc, q.mult, q.shift, ev.rounding) + q.zp_out, ev.dtype)

    def step(self, node: Node, ins: list[str], b: StepBuilder, graph: Graph) -> str:
        return b.node("Mul", [ins[0], b.const(np.array(node.attrs["value"], np.float32))])

    def emit(self, node: Node, ctx: Context) -> str:
        y, x, c = ctx.io(node)
        sfx = act_suffix(node, ctx)
        if sfx == "f32":
            return f"wn_scale_f32({y}, {x}, {float(node.attrs['value']).hex()}f, {c});"
        return f"wn_scale_{sfx}({y}, {x}, {c}, &{ctx.weight(node, 'q')});"

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        return eltwise_kernels(node, ctx)

    def entries(self, graph: Graph, node: Node) -> list[Entry]:
        return [struct("q", node.attrs["q"])]

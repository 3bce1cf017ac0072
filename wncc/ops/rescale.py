"""relu and requantize: the same values at a new scale and zero point (relu also clamps at zero;
requantize also moves between 8- and 16-bit activations in mixed-precision models)."""

from __future__ import annotations

import numpy as np

from wncc.arith.params import RescaleQ
from wncc.arith.qmath import clamp, requant
from wncc.ir import Graph, Node
from wncc.ops.base import (Context, Entry, Eval, Op, StepBuilder, act_suffix, in_suffix,
                           one_multiplier, register)
from wncc.ops.layout import struct


@register
class Rescale(Op):
    names = ("relu", "requantize")

    def params(self, graph: Graph, node: Node) -> RescaleQ:
        qin, qout = graph.tensors[node.inputs[0]].quant, graph.tensors[node.outputs[0]].quant
        m, sh = one_multiplier(qin.scale / qout.scale)
        return RescaleQ(m, sh, qin.zero_point, qout.zero_point)

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        if not ev.integer:
            return np.where(ins[0] > 0, ins[0], np.float32(0)).astype(np.float32)
        q = node.attrs["q"]
        acc = ins[0].astype(np.int64) - q.zp_in
        if node.op == "relu":
            acc = np.maximum(acc, 0)
        return clamp(requant(acc, q.mult, q.shift, ev.rounding) + q.zp_out, ev.dtype)

    def step(self, node: Node, ins: list[str], b: StepBuilder, graph: Graph) -> str:
        if node.op != "relu":
            return super().step(node, ins, b, graph)
        return b.node("Relu", ins)

    def emit(self, node: Node, ctx: Context) -> str:
        y, x, c = ctx.io(node)
        sfx = act_suffix(node, ctx)
        if sfx == "f32":
            return f"wn_relu_f32({y}, {x}, {c});"
        if in_suffix(node, ctx) != sfx:  # between types: mixed precision
            return f"wn_requantize_{in_suffix(node, ctx)}_{sfx}({y}, {x}, {c}, &{ctx.weight(node, 'q')});"
        return f"wn_rescale_{sfx}({y}, {x}, {c}, &{ctx.weight(node, 'q')}, {int(node.op == 'relu')});"

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        sfx = act_suffix(node, ctx)
        if sfx != "f32" and in_suffix(node, ctx) != sfx:
            return ("wn_requantize.c",)
        return (f"wn_eltwise_{sfx}.c",)

    def entries(self, graph: Graph, node: Node) -> list[Entry]:
        return [struct("q", node.attrs["q"])]

"""quantize: a float tensor (the mel frame) to integers, QuantizeLinear: float32 division,
round half to even (clamped to +-2^22, NaN to 0: wn_round_f32), add the zero point, saturate."""

from __future__ import annotations

import numpy as np

from wncc.arith.params import QuantizeQ
from wncc.arith.qmath import clamp, round_f32
from wncc.errors import WnccError
from wncc.ir import Graph, Node
from wncc.ops.base import Context, Eval, Op, act_suffix, register


def quantize_int(q: QuantizeQ, x: np.ndarray, dtype: str) -> np.ndarray:
    return clamp(round_f32(np.asarray(x, np.float32) / q.scale).astype(np.int64) + q.zp, dtype)


def output_quantize(graph: Graph, node: Node) -> QuantizeQ:
    """QuantizeLinear to a node's output tensor (its scale rounded to float32)."""
    out = graph.tensors[node.outputs[0]]
    if out.quant is None:
        raise WnccError(f"{node.op} without quantization parameters", node=node.name)
    return QuantizeQ(np.float32(out.quant.scale), out.quant.zero_point)


@register
class Quantize(Op):
    names = ("quantize",)

    def params(self, graph: Graph, node: Node) -> QuantizeQ:
        return output_quantize(graph, node)

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        return quantize_int(node.attrs["q"], ins[0], ev.dtype)

    def emit(self, node: Node, ctx: Context) -> str:
        y, x, c = ctx.io(node)
        q = node.attrs["q"]
        return f"wn_quantize_{act_suffix(node, ctx)}({y}, {x}, {c}, {float(q.scale).hex()}f, {q.zp});"

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        return (f"wn_eltwise_{act_suffix(node, ctx)}.c",)

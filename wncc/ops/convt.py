"""convt: transposed-convolution upsampling of a mel frame with kernel == stride == hop, computed
once per frame into a table of hop rows (the sample program reads row ``phase``)."""

from __future__ import annotations

import numpy as np

from wncc.arith.params import ConvQ
from wncc.ir import Graph, Node
from wncc.ops.base import Context, Entry, Eval, Op, conv_suffix, float_kernel, register
from wncc.ops.conv import conv_params, requantize_acc
from wncc.ops.layout import ACT_BITS, conv_entries

F = np.float32


@register
class ConvT(Op):
    names = ("convt",)

    def params(self, graph: Graph, node: Node) -> ConvQ:
        return conv_params(node, graph.tensors[node.inputs[0]].quant,
                           graph.tensors[node.outputs[0]].quant, channel_axis=1)

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        """The table (hop, Cout) of one frame ins[0] (Cin, 1); w [Cin, Cout, hop]."""
        x = ins[0][:, 0]
        if ev.integer:
            q = node.attrs["q"]
            acc = (np.einsum("iop,i->po", q.w.astype(np.float64), x.astype(np.float64))
                   .astype(np.int64) + q.bias[None, :])
            return requantize_acc(q, acc, q.mult[None, :], q.shift[None, :], ev.dtype,
                                  ev.rounding)
        w, b = node.weights["w"], node.weights["b"]
        acc = np.repeat(b.astype(F)[None, :], w.shape[2], axis=0)
        for i in range(w.shape[0]):  # b + sum_i w[i, :, p] * x[i], input channels ascending
            acc += w[i].T * x[i]
        return acc

    def emit(self, node: Node, ctx: Context) -> str:
        y, x, cout = ctx.io(node)
        cin, hop = ctx.channels(node.inputs[0]), node.attrs["factor"]
        sfx = conv_suffix(node, ctx)
        if sfx == "f32":
            fn, fmt = float_kernel(ctx, "convt")
            return (f"{fn}({y}, {x}, {ctx.weight(node, 'w')}, {ctx.weight(node, 'b')}, "
                    f"{cin}, {cout}, {hop}{fmt});")
        return (f"wn_convt_{sfx}({y}, {x}, {ctx.weight(node, 'w')}, &{ctx.weight(node, 'rq')}, "
                f"{cin}, {cout}, {hop});")

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        sfx = conv_suffix(node, ctx)
        if sfx == "f32":
            return ("wn_conv_h16.c",) if ctx.half is not None else ("wn_convt_f32.c",)
        return (f"wn_conv_{sfx}.c",)

    def entries(self, graph: Graph, node: Node) -> list[Entry]:
        q = node.attrs["q"]
        acc = 64 if ACT_BITS[graph.tensors[node.outputs[0]].dtype] == 16 else 32
        return conv_entries(q, np.transpose(q.w, (2, 1, 0)), node, acc)

    def float_weight(self, node: Node, key: str) -> np.ndarray:
        w = node.weights[key]
        return np.transpose(w, (0, 2, 1)) if key == "w" else w  # [Cin][hop][Cout]

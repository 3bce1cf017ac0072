"""convt: transposed-convolution upsampling of the conditioning path.

With kernel == stride and no crop (``simple``) each input row makes ``stride`` output rows on its
own: computed once per frame into a table (the sample program reads row ``phase``), at every
precision. Overlapping kernels (kernel > stride) and crops run row by row in the frame program's
windows, float only: y[:, r] = b + sum over the input rows i that feed uncropped row
u = r + crop, ascending, of sum_c w[c, :, u - i * stride] * x[c, i], channels ascending.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from wncc.arith.params import ConvQ
from wncc.ir import Graph, Node
from wncc.ops.base import Context, Entry, Eval, TransposedOp, conv_suffix, float_kernel, register
from wncc.ops.conv import conv_params, requantize_acc
from wncc.ops.depthwise import (integer_rows, integer_sums, row_kernels, transposed_row,
                                transposed_rows, unfolded)
from wncc.ops.layout import ACT_BITS, conv_entries

F = np.float32


@register
class ConvT(TransposedOp):
    names = ("convt",)

    def params(self, graph: Graph, node: Node) -> ConvQ:
        qin = graph.tensors[node.inputs[0]].quant
        q = unfolded(conv_params(node, qin, graph.tensors[node.outputs[0]].quant, channel_axis=1),
                     node, sum_axes=(0, 2))
        if not simple(node):  # rows sum 1 .. ceil(K / stride) taps: x - zp_in in the sums
            return integer_rows(q, node)
        # each output row (phase p) sums one kernel tap: its own input zero point fold,
        # bias[o] - zp_in * sum_i w[i, o, p]
        folded = q.bias[None, :] - q.zp_in * node.weights["wq"].astype(np.int64).sum(axis=0).T
        return dataclasses.replace(q, bias=folded.reshape(-1))

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        """The table (stride, Cout) of one row ins[0] (Cin, 1); w [Cin, Cout, stride]."""
        x = ins[0][:, 0]
        if ev.integer:
            q = node.attrs["q"]
            acc = (np.einsum("iop,i->po", q.w.astype(np.float64), x.astype(np.float64))
                   .astype(np.int64) + q.bias.reshape(-1, q.w.shape[1]))
            return requantize_acc(q, acc, q.mult[None, :], q.shift[None, :], ev.dtype,
                                  ev.rounding)
        w, b = node.weights["w"], node.weights["b"]
        acc = np.repeat(b.astype(F)[None, :], w.shape[2], axis=0)
        for i in range(w.shape[0]):  # b + sum_i w[i, :, p] * x[i], input channels ascending
            acc += w[i].T * x[i]
        return acc

    def sequence(self, node: Node, ins: list[np.ndarray], ev: Eval, pad: list[object]
                 ) -> np.ndarray:
        x = ins[0]
        if simple(node):  # frame by frame, the table of each
            cols = [self.golden(node, [x[:, j:j + 1]], ev).T for j in range(x.shape[1])]
            return np.concatenate(cols, axis=1) if cols else np.zeros((node.weights["w"].shape[1], 0))
        n_out = self.count(node, x.shape[1])
        if ev.integer:
            return integer_sums(node, x, n_out, ev,
                                lambda w, t, xz: np.einsum("cor,cr->or", w[:, :, t], xz))
        w, b = node.weights["w"], node.weights["b"]
        acc = np.repeat(b.astype(F)[:, None], n_out, axis=1)
        for rows, i, t in transposed_rows(node, n_out, x.shape[1]):
            for c in range(w.shape[0]):  # input channels ascending
                acc[:, rows] += w[c][:, t] * x[c, i]
        return acc

    def mixes_time(self, node: Node) -> bool:
        return not simple(node)

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

    def emit_row(self, node: Node, ctx: Context) -> str:
        if simple(node):
            raise NotImplementedError("simple transposed convolutions make whole tables")
        cin, cout = ctx.channels(node.inputs[0]), ctx.channels(node.outputs[0])
        return transposed_row(node, ctx, "wn_convt_row", f"{cin}, {cout}")

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        if not simple(node):
            return row_kernels(node, ctx)
        sfx = conv_suffix(node, ctx)
        if sfx == "f32":
            return ("wn_conv_h16.c",) if ctx.half is not None else ("wn_convt_f32.c",)
        return (f"wn_conv_{sfx}.c",)

    def entries(self, graph: Graph, node: Node) -> list[Entry]:
        q = node.attrs["q"]
        acc = 64 if ACT_BITS[graph.tensors[node.outputs[0]].dtype] == 16 else 32
        if not simple(node):  # [K][Cin][Cout], the row kernel's order
            return conv_entries(q, np.transpose(q.w, (2, 0, 1)), node, acc)
        return conv_entries(q, np.transpose(q.w, (2, 1, 0)), node, acc)

    def float_weight(self, node: Node, key: str) -> np.ndarray:
        w = node.weights[key]
        if key != "w":
            return w
        if simple(node):
            return np.transpose(w, (0, 2, 1))  # [Cin][hop][Cout]
        return np.transpose(w, (2, 0, 1))  # [K][Cin][Cout], the row kernel's order


def simple(node: Node) -> bool:
    """kernel == stride, nothing cropped: each input row makes its own output rows."""
    a = node.attrs
    return a.get("kernel", a["factor"]) == a["factor"] and not a.get("crop") and not a.get("extra")

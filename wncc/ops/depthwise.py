"""dwconv and dwconvt: one 1-D kernel per channel over the conditioning network's time axis.

A 2-D convolution or transposed convolution with kernel (1, k) over ``[1, 1, n_mels, T]`` (r9y9's
upsampling stages, kan-bayashi's ConvTranspose2d) applies the same 1-D kernel to every mel bin;
the frontend gives each channel its own copy of it, so ``w`` is [C, K] and ``b`` is [C].

dwconv: y[c, r] = b[c] + sum_j w[c, j] * x[c, r - pad_left + j * dilation], j ascending, padding
rows zero; float (each product and sum rounded to float32) or integer (acc = bias with the input
zero point folded in + sum w * x, requantized per channel like conv). dwconvt: y[c, r] = b[c] +
sum_i w[c, u - i * stride] * x[c, i] over the input rows i that exist, ascending, u = r + crop;
float, or int8 with acc = bias + sum w * (x - zp_in) (the rows sum different numbers of taps,
so the zero point cannot be folded into the bias).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from wncc.arith.params import ConvQ
from wncc.errors import WnccError
from wncc.ir import Graph, Node
from wncc.ops.base import Context, Entry, Eval, TransposedOp, WindowOp, conv_suffix, register
from wncc.ops.conv import conv_params, padded_taps, requantize_acc
from wncc.ops.layout import ACT_BITS, conv_entries

F = np.float32


def transposed_rows(node: Node, n_out: int, n_in: int):
    """For each step m of the sums (input rows ascending): (output rows, input rows, taps) of
    the terms that exist, over a whole sequence of n_out output rows."""
    a = node.attrs
    s, k = a["factor"], a["kernel"]
    u = np.arange(n_out) + a["crop"]
    first = np.maximum(-((k - 1 - u) // s), 0)
    last = np.minimum(u // s, n_in - 1)
    for m in range(-(-k // s) + 1):
        i = first + m
        ok = i <= last
        yield np.nonzero(ok)[0], i[ok], u[ok] - i[ok] * s


@register
class DepthwiseConv(WindowOp):
    names = ("dwconv",)

    def params(self, graph: Graph, node: Node) -> ConvQ:
        q = conv_params(node, graph.tensors[node.inputs[0]].quant,
                        graph.tensors[node.outputs[0]].quant, channel_axis=0)
        if q.w_bits != 8:
            raise WnccError(f"a depthwise conditioning convolution with {q.w_bits}-bit weights "
                            "is not supported (8-bit)", node=node.name)
        return q

    def sequence(self, node: Node, ins: list[np.ndarray], ev: Eval, pad: list[object]
                 ) -> np.ndarray:
        taps = padded_taps(node, ins[0], pad[0])
        if ev.integer:
            q = node.attrs["q"]
            acc = q.bias.astype(np.int64)[:, None] + sum(
                q.w[:, j:j + 1].astype(np.int64) * tap.astype(np.int64)
                for j, tap in enumerate(taps))
            return requantize_acc(q, acc, q.mult[:, None], q.shift[:, None], ev.dtype,
                                  ev.rounding)
        w, b = node.weights["w"], node.weights["b"]
        acc = np.repeat(b.astype(F)[:, None], taps[0].shape[1], axis=1)
        for j, tap in enumerate(taps):
            acc += w[:, j:j + 1] * tap
        return acc

    def entries(self, graph: Graph, node: Node) -> list[Entry]:
        acc = 64 if ACT_BITS[graph.tensors[node.outputs[0]].dtype] == 16 else 32
        return conv_entries(node.attrs["q"], node.attrs["q"].w, node, acc)

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        raise NotImplementedError("dwconv runs on whole sequences (sequence)")

    def emit_row(self, node: Node, ctx: Context) -> str:
        no_half(node, ctx)
        a = node.attrs
        x = ctx.row_ptr(node.inputs[0], f"{ctx.row} - {a['pad_left']}")
        y = ctx.row_ptr(node.outputs[0], ctx.row)
        shape = (f"{ctx.channels(node.inputs[0])}, {a['kernel']}, "
                 f"{a['dilation'] * ctx.stride(node.inputs[0])}")
        sfx = conv_suffix(node, ctx)
        if sfx == "f32":
            return (f"wn_dwconv_f32({y}, {x}, {ctx.weight(node, 'w')}, {ctx.weight(node, 'b')}, "
                    f"{shape});")
        return f"wn_dwconv_{sfx}({y}, {x}, {ctx.weight(node, 'w')}, &{ctx.weight(node, 'rq')}, {shape});"

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        return row_kernels(node, ctx)

    def mixes_time(self, node: Node) -> bool:
        return True  # even a kernel of 1: only the frame program's windows make it


@register
class DepthwiseConvT(TransposedOp):
    names = ("dwconvt",)

    def params(self, graph: Graph, node: Node) -> ConvQ:
        q = conv_params(node, graph.tensors[node.inputs[0]].quant,
                        graph.tensors[node.outputs[0]].quant, channel_axis=0)
        return integer_rows(unfolded(q, node, sum_axes=(1,)), node)

    def sequence(self, node: Node, ins: list[np.ndarray], ev: Eval, pad: list[object]
                 ) -> np.ndarray:
        x = ins[0]
        w, b = node.weights["w"], node.weights["b"]
        n_out = self.count(node, x.shape[1])
        if ev.integer:
            return integer_sums(node, x, n_out, ev, lambda w, t, xz: w[:, t] * xz)
        acc = np.repeat(b.astype(F)[:, None], n_out, axis=1)
        for rows, i, t in transposed_rows(node, n_out, x.shape[1]):
            acc[:, rows] += w[:, t] * x[:, i]
        return acc

    def entries(self, graph: Graph, node: Node) -> list[Entry]:
        return conv_entries(node.attrs["q"], node.attrs["q"].w, node, 32)

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        raise NotImplementedError("dwconvt runs on whole sequences (sequence)")

    def emit_row(self, node: Node, ctx: Context) -> str:
        return transposed_row(node, ctx, "wn_dwconvt", f"{ctx.channels(node.inputs[0])}")

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        return row_kernels(node, ctx)


def row_kernels(node: Node, ctx: Context) -> tuple[str, ...]:
    """The row kernels' source of a conditioning op: float or integer."""
    return ("wn_rows.c",) if conv_suffix(node, ctx) == "f32" else ("wn_rows_int.c",)


def integer_sums(node: Node, x: np.ndarray, n_out: int, ev: Eval, term) -> np.ndarray:
    """The integer rows of a transposed convolution: bias + the sum over the input rows that
    exist of term(w, taps, x - zp_in), requantized per output channel."""
    q = node.attrs["q"]
    acc = np.repeat(q.bias.astype(np.int64)[:, None], n_out, axis=1)
    xz = x.astype(np.int64) - q.zp_in
    for rows, i, t in transposed_rows(node, n_out, x.shape[1]):
        acc[:, rows] += term(q.w.astype(np.int64), t, xz[:, i])
    return requantize_acc(q, acc, q.mult[:, None], q.shift[:, None], ev.dtype, ev.rounding)


def unfolded(q: ConvQ, node: Node, sum_axes: tuple[int, ...]) -> ConvQ:
    """conv_params folds zp_in * sum(w) into the bias; the real bias in bias units again."""
    wq = node.weights["wq"].astype(np.int64)
    return dataclasses.replace(q, bias=q.bias + q.zp_in * wq.sum(axis=sum_axes))


def integer_rows(q: ConvQ, node: Node) -> ConvQ:
    """The integer form of a transposed convolution whose rows sum a varying number of taps
    (fewer at the edges): acc = bias + sum w * (x - zp_in), so no fold; int8 only."""
    if q.w_bits != 8 or q.zp_out < -128 or q.zp_out > 127:
        raise WnccError("an overlapping, cropped or depthwise transposed convolution runs in "
                        "int8 (8-bit weights and activations) or float", node=node.name)
    return q


def no_half(node: Node, ctx: Context) -> None:
    """The row kernels of the conditioning take float32 or int8 weights, not 16-bit floats."""
    if ctx.half is not None:
        raise WnccError(f"{node.op} of the conditioning is not supported in {ctx.graph.dtype} "
                        "(fp32 or int8)", node=node.name)


def transposed_row(node: Node, ctx: Context, fn: str, channels: str) -> str:
    """One output row of a transposed convolution: the input rows i0..i1 that feed it (those
    that exist: from 0, and below the input's length once the utterance has ended). Float
    kernels take the bias table; integer ones the requantization and the input zero point."""
    no_half(node, ctx)
    a = node.attrs
    x = node.inputs[0]
    sfx = conv_suffix(node, ctx)
    if sfx == "f32":
        fn, params = f"{fn}_f32", f"{ctx.weight(node, 'w')}, {ctx.weight(node, 'b')}"
    elif sfx == "s8" and ctx.graph.tensors[node.outputs[0]].dtype == "i8":
        fn = f"{fn}_s8"
        params = (f"{ctx.weight(node, 'w')}, &{ctx.weight(node, 'rq')}, "
                  f"{node.attrs['q'].zp_in}")
    else:
        raise WnccError(f"a transposed convolution of this kind has no {sfx} kernel (int8 or "
                        "float)", node=node.name)
    i0 = f"{ctx.row_ptr(x, f'i0 - {ctx.first_row(x)}')}"
    return (f"{{\n"
            f"            const int32_t u = t + {a['crop']};\n"
            f"            int32_t i0 = wn_ceil_div(u - {a['kernel'] - 1}, {a['factor']});\n"
            f"            int32_t i1 = wn_floor_div(u, {a['factor']});\n"
            f"            if (i0 < 0) {{\n                i0 = 0;\n            }}\n"
            f"            if (s->ended && i1 > {ctx.length(x)} - 1) {{\n"
            f"                i1 = {ctx.length(x)} - 1;\n            }}\n"
            f"            {fn}({ctx.row_ptr(node.outputs[0], ctx.row)}, {i0}, i1 - i0 + 1, "
            f"u - i0 * {a['factor']}, {a['factor']}, {params}, {channels}, {a['kernel']}, "
            f"{ctx.stride(x)});\n"
            f"        }}")

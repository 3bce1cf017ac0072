"""conv and conv_ring: a 1-D convolution over time; conv_ring is a causal one after streaming,
stepping over a ring buffer of its past inputs (runtime_c/ref/wn_ring.h).

Float: bias first, then taps from oldest to newest, input channels ascending, each product and
sum rounded to float32. Integer: acc = bias (sum w * zp_in folded in) + sum w * x, requantized
per output channel; exact, so any order. Dense integer layers may run on CMSIS-NN
(wncc/cmsis_nn.py) where its arithmetic equals this.
"""

from __future__ import annotations

import numpy as np

from wncc.arith.params import ConvQ
from wncc.arith.qmath import clamp, requant, requant64
from wncc.errors import WnccError
from wncc.ir import Graph, Len, Node, QuantParams
from wncc.ops.base import (Context, Entry, Eval, StepBuilder, WindowOp, conv_suffix, float_kernel,
                           is_sparse, multipliers, register)
from wncc.ops.layout import ACT_BITS, LAYOUTS, conv_entries, packed_entries

F = np.float32
I = np.int64


def conv_params(node: Node, qin: QuantParams, qout: QuantParams, channel_axis: int) -> ConvQ:
    """Integer weights, biases with sum(w) * zp_in folded in, per-channel multipliers."""
    w = node.weights
    if "wq" not in w:
        raise WnccError("integer input but float weights: the weights need a DequantizeLinear "
                        "from integers", node=node.name)
    wq = w["wq"]
    real_bias_scale = qin.scale * w["w_scale"]
    if "bq" in w:
        rel = np.abs(w["b_scale"] - real_bias_scale) / real_bias_scale
        if np.any(rel > 1e-4):
            raise WnccError("bias scale is not input scale x weight scale", node=node.name)
        bias = w["bq"].astype(np.int64)
    else:
        bias = np.rint(w["b"].astype(np.float64) / real_bias_scale).astype(np.int64)
    sum_axes = tuple(a for a in range(wq.ndim) if a != channel_axis)
    folded = bias - qin.zero_point * wq.sum(axis=sum_axes)
    mult, shift = multipliers(qin.scale * w["w_scale"] / qout.scale)
    return ConvQ(wq, folded, mult, shift, qin.zero_point, qout.zero_point, int(w["w_bits"]))


def requantize_acc(q: ConvQ, acc: np.ndarray, mult: np.ndarray, shift: np.ndarray, dtype: str,
                   rounding: str) -> np.ndarray:
    """The accumulators of an integer convolution to its output type."""
    out = requant64(acc, mult, shift) if dtype == "i16" else requant(acc, mult, shift, rounding)
    return clamp(out + q.zp_out, dtype)


def taps_int(q: ConvQ, taps: list[np.ndarray], dtype: str, rounding: str) -> np.ndarray:
    """y = requant(bias + sum_k sum_i w[:, i, k] x_k[i]) + zp_out; w [Cout, Cin, K]. A float64
    matrix product is exact here: every partial sum stays below 2^53."""
    w = q.w
    stacked = np.concatenate(taps, axis=0).astype(np.float64)  # (K*Cin, n), tap-major
    wk = np.transpose(w, (0, 2, 1)).reshape(w.shape[0], -1).astype(np.float64)
    acc = (wk @ stacked).astype(I) + q.bias[:, None]
    return requantize_acc(q, acc, q.mult[:, None], q.shift[:, None], dtype, rounding)


def taps_float(w: np.ndarray, b: np.ndarray, taps: list[np.ndarray]) -> np.ndarray:
    """y = b + sum_k sum_i w[:, i, k] * taps[k][i] ; w [Cout, Cin, K], taps K x (Cin, n)."""
    n = taps[0].shape[1]
    acc = np.repeat(b.astype(F)[:, None], n, axis=1)
    for k, tap in enumerate(taps):
        wk = np.ascontiguousarray(w[:, :, k].T)  # (Cin, Cout)
        for i in range(tap.shape[0]):
            acc += wk[i][:, None] * tap[i][None, :]
    return acc


def gathers(node: Node) -> bool:
    """A conditioning convolution whose taps are not adjacent rows: gathered before the product."""
    return node.op == "conv" and node.attrs["kernel"] > 1 and node.attrs["dilation"] > 1


def padded_taps(node: Node, x: np.ndarray, pad: object) -> list[np.ndarray]:
    """The kernel taps (oldest first) of a padded, dilated convolution over x (C, n)."""
    a = node.attrs
    k, d = a["kernel"], a["dilation"]
    left = np.full((x.shape[0], a["pad_left"]), pad, x.dtype)
    right = np.full((x.shape[0], a["pad_right"]), pad, x.dtype)
    xp = np.concatenate([left, x, right], axis=1)
    n = xp.shape[1] - (k - 1) * d
    return [xp[:, j * d: j * d + n] for j in range(k)]


def _cmsis(node: Node, ctx: Context, y: str, x: str, cin: int, cout: int) -> str:
    """A convolution computed by CMSIS-NN through the adapter (runtime_c/cmsis/wn_cmsis_s8.c)."""
    w = ctx.weight
    bias = w(node, "b") if (node.name, "b") in ctx.tables else "NULL"
    return (f"wn_cmsis_conv_s8({y}, {x}, {w(node, 'w')}, {bias}, {w(node, 'mult')}, "
            f"{w(node, 'shift')}, {cin}, {cout}, {node.attrs['q'].zp_out});")


def _int_kernel(node: Node, sfx: str) -> str:
    """The integer kernel of a dense convolution: the reference one, or the target's packed one
    (wncc/passes/packing.py)."""
    ring = "_ring" if node.op == "conv_ring" else ""
    packed = node.attrs.get("packed")
    return f"wn_conv{ring}_{packed}_s8" if packed else f"wn_conv{ring}_{sfx}"


def _spmv(node: Node, ctx: Context, y: str, x: str) -> str:
    sfx = conv_suffix(node, ctx)
    w = ctx.weight
    bias = w(node, "b") if sfx == "f32" else f"&{w(node, 'rq')}"
    return (f"wn_spmv_{node.attrs['storage'].fmt.kind}_{sfx}({y}, {x}, &{w(node, 'sp')}, "
            f"{w(node, 'values')}, {bias});")


def _cmsis_entries(q: ConvQ) -> list[Entry]:
    """The layout CMSIS-NN's s8 kernels read: int8 weights [Cout][K][Cin] (our dense layout:
    the gathered taps are tap-major), int32 biases (none when all are zero: the kernel takes
    NULL), and one int32 multiplier and int32 shift per output channel (no shared pair)."""
    cout = q.w.shape[0]
    out = [("w", "int8_t", np.transpose(q.w, (0, 2, 1)).reshape(-1).astype(np.int8), "weight",
            False)]
    bias = np.asarray(q.bias, dtype=np.int64).reshape(-1)
    if np.any(bias):
        out.append(("b", "int32_t", bias.astype(np.int32), "bias", False))
    for key, v in (("mult", q.mult), ("shift", q.shift)):
        values = np.broadcast_to(np.asarray(v, dtype=np.int64).reshape(-1), (cout,))
        out.append((key, "int32_t", values.astype(np.int32), "scale", False))
    return out


@register
class Conv(WindowOp):
    names = ("conv", "conv_ring")

    def params(self, graph: Graph, node: Node) -> ConvQ:
        return conv_params(node, graph.tensors[node.inputs[0]].quant,
                           graph.tensors[node.outputs[0]].quant, channel_axis=0)

    def taps(self, node: Node, taps: list[np.ndarray], ev: Eval) -> np.ndarray:
        """The output from the input at each tap, oldest first (K arrays (Cin, n))."""
        if ev.integer:
            return taps_int(node.attrs["q"], taps, ev.dtype, ev.rounding)
        return taps_float(node.weights["w"], node.weights["b"], taps)

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        return self.taps(node, [ins[0]], ev)  # a pointwise conv; conv_ring steps in the model

    def sequence(self, node: Node, ins: list[np.ndarray], ev: Eval, pad: list[object]
                 ) -> np.ndarray:
        """A padded convolution over a whole conditioning sequence: the padding rows take part
        in the sums like the zero rows of the C's window buffers."""
        return self.taps(node, padded_taps(node, ins[0], pad[0]), ev)

    def step(self, node: Node, ins: list[str], b: StepBuilder, graph: Graph) -> str:
        x = ins[0]
        if node.op == "conv_ring":
            x = b.ring(node, x, graph.tensors[node.inputs[0]].channels)
        w = np.asarray(node.weights["w"], np.float32)
        return b.node("Conv", [x, b.const(w), b.const(np.asarray(node.weights["b"], np.float32))],
                      dilations=[node.attrs["dilation"]], kernel_shape=[w.shape[2]])

    def emit(self, node: Node, ctx: Context) -> str:
        y, x, cout = ctx.io(node)
        cin = ctx.channels(node.inputs[0])
        sfx = conv_suffix(node, ctx)
        if node.op == "conv_ring":
            return self._emit_ring(node, ctx, y, x, cin, cout, sfx)
        if node.attrs.get("cmsis_nn"):
            return _cmsis(node, ctx, y, x, cin, cout)
        if is_sparse(node):
            return _spmv(node, ctx, y, x)
        if sfx == "f32":
            fn, fmt = float_kernel(ctx, "conv")
            return f"{fn}({y}, {x}, {ctx.weight(node, 'w')}, {ctx.weight(node, 'b')}, {cin}, {cout}{fmt});"
        return f"{_int_kernel(node, sfx)}({y}, {x}, {ctx.weight(node, 'w')}, &{ctx.weight(node, 'rq')}, {cin}, {cout});"

    def _emit_ring(self, node: Node, ctx: Context, y: str, x: str, cin: int, cout: int,
                   sfx: str) -> str:
        a = node.attrs
        region, offset = ctx.plan.rings[node.name]
        ring = f"s->{region} + {offset}, &s->ring_pos[{a['ring']}]"
        geometry = f"{cin}, {cout}, {a['kernel']}, {a['dilation']}, {a['ring_len']}"
        if is_sparse(node) or a.get("cmsis_nn"):
            act = {"f32": "f32", "s8": "s8", "s4": "s8", "s8s16": "s16"}[sfx]
            scratch = f"s->{ctx.plan.scratch[node.name]}"
            gather = (f"wn_ring_gather_{act}({scratch}, {ring}, {x}, {cin}, {a['kernel']}, "
                      f"{a['dilation']}, {a['ring_len']});")
            if a.get("cmsis_nn"):  # one 1x1 product over the kernel x cin gathered taps
                return gather + "\n    " + _cmsis(node, ctx, y, scratch, a["kernel"] * cin, cout)
            return gather + "\n    " + _spmv(node, ctx, y, scratch)
        if sfx == "f32":
            fn, fmt = float_kernel(ctx, "conv_ring")
            return (f"{fn}({y}, {ring}, {x}, {ctx.weight(node, 'w')}, {ctx.weight(node, 'b')}, "
                    f"{geometry}{fmt});")
        return (f"{_int_kernel(node, sfx)}({y}, {ring}, {x}, {ctx.weight(node, 'w')}, "
                f"&{ctx.weight(node, 'rq')}, {geometry});")

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        gather = (("wn_ring_gather.c",) if node.op == "conv_ring"
                  else ("wn_rows.c",) if node.attrs.get("kernel", 1) > 1 else ())
        if node.attrs.get("cmsis_nn"):
            return ("wn_cmsis_s8.c",) + gather
        sfx = conv_suffix(node, ctx)
        if node.attrs.get("packed"):
            return (f"wn_conv_{node.attrs['packed']}_s8.c",)
        if is_sparse(node):
            return (f"wn_sparse_{sfx}.c",) + gather
        if sfx == "f32":
            return ((("wn_conv_h16.c",) if ctx.half is not None else (f"wn_{node.op}_f32.c",))
                    + gather)
        return (f"wn_conv_{sfx}.c",) + gather

    def entries(self, graph: Graph, node: Node) -> list[Entry]:
        q = node.attrs["q"]
        if node.attrs.get("cmsis_nn"):
            return _cmsis_entries(q)
        if node.attrs.get("packed"):  # [Cout, K, Cin]: a ring's taps are its segments
            return packed_entries(q, np.transpose(q.w, (0, 2, 1)), LAYOUTS[node.attrs["packed"]])
        acc = 64 if ACT_BITS[graph.tensors[node.outputs[0]].dtype] == 16 else 32
        return conv_entries(q, np.transpose(q.w, (0, 2, 1)), node, acc)

    def float_weight(self, node: Node, key: str) -> np.ndarray:
        w = node.weights[key]
        return np.transpose(w, (2, 1, 0)) if key == "w" else w  # [K][Cin][Cout]

    def emit_row(self, node: Node, ctx: Context) -> str:
        """One output row of a conditioning convolution: its kernel x cin taps are adjacent
        rows of the input window (or gathered when dilated), one product over all of them."""
        cin, cout = ctx.channels(node.inputs[0]), ctx.channels(node.outputs[0])
        k, left = node.attrs["kernel"], node.attrs.get("pad_left", 0)
        if k > 1 and ctx.stride(node.inputs[0]) != cin:
            raise WnccError("a convolution over a channel slice of a conditioning table is not "
                            "supported", node=node.name)
        x = ctx.row_ptr(node.inputs[0], f"{ctx.row} - {left}")
        code = ""
        if gathers(node):
            taps = ctx.plan.locations[f"{node.name}/taps"]
            scratch = f"s->{taps.region} + {taps.offset}"
            code = (f"wn_gather_rows({scratch}, {x}, sizeof(*({scratch})) * {cin}u, {k}, "
                    f"sizeof(*({scratch})) * {node.attrs['dilation'] * cin}u);\n        ")
            x = scratch
        y = ctx.row_ptr(node.outputs[0], ctx.row)
        sfx = conv_suffix(node, ctx)
        if is_sparse(node):
            return code + _spmv(node, ctx, y, x)
        if sfx == "f32":
            fn, fmt = float_kernel(ctx, "conv")
            return code + (f"{fn}({y}, {x}, {ctx.weight(node, 'w')}, {ctx.weight(node, 'b')}, "
                           f"{k * cin}, {cout}{fmt});")
        return code + (f"{_int_kernel(node, sfx)}({y}, {x}, {ctx.weight(node, 'w')}, "
                       f"&{ctx.weight(node, 'rq')}, {k * cin}, {cout});")

    def length(self, node: Node, n: Len) -> Len:
        return n if node.op == "conv_ring" else super().length(node, n)

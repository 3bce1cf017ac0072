"""repeat and crop: the conditioning network's row moves, in the frame program.

repeat: nearest upsampling of a tensor that stays in the frame program (an intermediate rate of
a staged upsampler), y[:, r] = x[:, floor(r / factor)]; the final repeat of mel frames to the
samples is the ``upsample`` view instead. crop: a time Slice, y[:, r] = x[:, r + start], the
last ``drop`` rows left out. Both copy rows; exact at every precision.
"""

from __future__ import annotations

import numpy as np

from wncc.ir import Len, Node
from wncc.ops.base import Context, Eval, Op, register, repeated_needs


@register
class Repeat(Op):
    names = ("repeat",)
    copies = True

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        return np.repeat(ins[0], node.attrs["factor"], axis=1)

    def emit_row(self, node: Node, ctx: Context) -> str:
        x = node.inputs[0]
        src = ctx.row_ptr(x, f"wn_floor_div(t, {node.attrs['factor']}) - {ctx.first_row(x)}")
        return _copy(node, ctx, src)

    def rows(self, node: Node, rows: int) -> int:
        return rows * node.attrs["factor"]

    def length(self, node: Node, n: Len) -> Len:
        return n.scaled(node.attrs["factor"])

    def needs(self, node: Node, lo: int, hi: int) -> tuple[int, int]:
        return repeated_needs(node.attrs["factor"], lo, hi)

    def mixes_time(self, node: Node) -> bool:
        return True

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        return ("wn_rows.c",)


@register
class Crop(Op):
    names = ("crop",)
    copies = True

    def sequence(self, node: Node, ins: list[np.ndarray], ev: Eval, pad: list[object]
                 ) -> np.ndarray:
        start, drop = node.attrs["start"], node.attrs["drop"]
        return ins[0][:, start:ins[0].shape[1] - drop]


    def emit_row(self, node: Node, ctx: Context) -> str:
        return _copy(node, ctx, ctx.row_ptr(node.inputs[0], f"{ctx.row} + {node.attrs['start']}"))

    def length(self, node: Node, n: Len) -> Len:
        return n - (node.attrs["start"] + node.attrs["drop"])

    def needs(self, node: Node, lo: int, hi: int) -> tuple[int, int]:
        return lo + node.attrs["start"], hi + node.attrs["start"]

    def mixes_time(self, node: Node) -> bool:
        return True  # its length is not its input's: the frame program's windows make it

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        return ("wn_rows.c",)


def _copy(node: Node, ctx: Context, src: str) -> str:
    y = ctx.row_ptr(node.outputs[0], ctx.row)
    return f"memcpy({y}, {src}, sizeof(*({y})) * {ctx.channels(node.outputs[0])}u);"

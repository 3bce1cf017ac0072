"""slice and upsample: views. A slice is channels [start, stop) of its input; nearest-repeat
upsampling keeps a tensor at frame rate. Both share their source's storage: no call, no kernel."""

from __future__ import annotations

import numpy as np

from wncc.ir import Node
from wncc.ops.base import Context, Eval, Op, register


@register
class View(Op):
    names = ("slice", "upsample")

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        if node.op == "slice":
            return ins[0][node.attrs["start"]:node.attrs["stop"]]
        return ins[0]

    def emit(self, node: Node, ctx: Context) -> str:
        return ""

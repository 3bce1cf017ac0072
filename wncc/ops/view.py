"""slice and upsample: views. A slice is channels [start, stop) of its input; nearest-repeat
upsampling keeps a tensor at frame rate. Both share their source's storage: no call, no kernel."""

from __future__ import annotations

import numpy as np

from wncc.ir import Graph, Len, Node
from wncc.ops.base import Context, Eval, Op, StepBuilder, register, repeated_needs


@register
class View(Op):
    names = ("slice", "upsample")

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        if node.op == "slice":
            return ins[0][node.attrs["start"]:node.attrs["stop"]]
        return ins[0]

    def step(self, node: Node, ins: list[str], b: StepBuilder, graph: Graph) -> str:
        if node.op == "slice":
            return b.channels(ins[0], node.attrs["start"], node.attrs["stop"])
        return ins[0]  # a frame row read at every sample of its frame

    def emit(self, node: Node, ctx: Context) -> str:
        return ""

    def rows(self, node: Node, rows: int) -> int:
        return rows * node.attrs.get("factor", 1)

    def length(self, node: Node, n: Len) -> Len:
        return n.scaled(node.attrs.get("factor", 1))

    def needs(self, node: Node, lo: int, hi: int) -> tuple[int, int]:
        return repeated_needs(node.attrs.get("factor", 1), lo, hi)

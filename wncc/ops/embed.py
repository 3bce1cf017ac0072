"""embed: the sample input's class selects a row of a table (one-hot input convolution)."""

from __future__ import annotations

import numpy as np

from wncc.arith.params import EmbedQ
from wncc.errors import WnccError
from wncc.ir import ACT_DTYPES, Graph, Node
from wncc.ops.base import (Context, Entry, Eval, Op, StepBuilder, act_suffix, is_sparse,
                           register)
from wncc.ops.layout import ACT_BITS, INT_CTYPES, sparse_entries, sparse_storage


@register
class Embed(Op):
    names = ("embed",)

    def params(self, graph: Graph, node: Node) -> EmbedQ:
        out = graph.tensors[node.outputs[0]]
        w = node.weights
        if "tq" not in w:
            raise WnccError("integer graph with a float embedding table", node=node.name)
        real = (w["tq"] - w["t_zp"]).astype(np.float32) * np.float32(w["t_scale"])
        lo, hi = ACT_DTYPES[out.dtype]
        table = np.clip(np.rint(real / np.float32(out.quant.scale)) + out.quant.zero_point, lo, hi)
        return EmbedQ(table.astype(np.int64))

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        x = ins[0][0]
        if ev.integer:
            return node.attrs["q"].table[x].T.copy()
        return node.weights["table"][x].T.astype(np.float32)

    def step(self, node: Node, ins: list[str], b: StepBuilder, graph: Graph) -> str:
        table = np.asarray(node.weights["table"], np.float32).T[None]  # [1, C, classes]
        return b.node("Gather", [b.const(np.ascontiguousarray(table)), ins[0]], axis=2)

    def emit(self, node: Node, ctx: Context) -> str:
        y, x, c = ctx.io(node)
        sfx = act_suffix(node, ctx)
        if is_sparse(node):
            fill = "0.0f" if sfx == "f32" else str(int(node.attrs["fill"]))  # the stored 0.0
            return (f"wn_embed_csr_{sfx}({y}, {ctx.weight(node, 'values')}, "
                    f"&{ctx.weight(node, 'sp')}, {fill}, {x});")
        if ctx.half is not None:
            return f"wn_embed_h16({y}, {ctx.weight(node, 'table')}, {x}, {c}, {ctx.half});"
        return f"wn_embed_{sfx}({y}, {ctx.weight(node, 'table')}, {x}, {c});"

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        sfx = act_suffix(node, ctx)
        if sfx != "f32":
            return (f"wn_eltwise_{sfx}.c",)
        return ("wn_conv_h16.c",) if ctx.half is not None else ("wn_eltwise_f32.c",)

    def entries(self, graph: Graph, node: Node) -> list[Entry]:
        bits = ACT_BITS[graph.tensors[node.outputs[0]].dtype]
        if sparse_storage(node):
            return sparse_entries(node, bits, value_role="table")
        table = node.attrs["q"].table.reshape(-1).astype(f"int{bits}")
        return [("table", INT_CTYPES[bits], table, "table", False)]

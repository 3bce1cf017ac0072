"""The frame program of a windowed conditioning network (passes/timeaxis.py), in C.

Each op makes the rows of its output window one at a time: relative row r is absolute row
t = s->made * rows + r of the tensor. Rows before 0, and once the utterance has ended rows at or
after the tensor's length, are padding: real zero, never computed. Inside, the op module's
``emit_row`` writes the row (pointwise ops: their one-row call on the rows' buffers).
"""

from __future__ import annotations

import dataclasses

from wncc import ops
from wncc.codegen import emitters
from wncc.codegen.emitters import Call
from wncc.ir import VIEW_OPS, Graph, Node
from wncc.ops.base import Context
from wncc.text import inert

ZERO = {"f32": "0.0f", "i8": "0", "i16": "0"}


def calls(nodes: list[Node], ctx: Context) -> list[Call]:
    out = []
    row_ctx = dataclasses.replace(ctx, row="r")
    for node in nodes:
        if node.op in VIEW_OPS:
            continue
        out.append(Call(inert(emitters.describe(node, ctx.graph)), _loop(node, row_ctx)))
    return out


def _loop(node: Node, ctx: Context) -> str:
    graph = ctx.graph
    name = node.outputs[0]
    t = graph.tensors[name]
    lo, hi = graph.time.windows.get(name, (0, t.rows))
    y = ctx.row_ptr(name, "r")
    zero = _real_zero(graph, name)
    body = ops.of(node).emit_row(node, ctx)
    rounding = emitters.round_after(node, ctx)
    if rounding:
        body += "\n        " + rounding
    return (f"for (r = {lo}; r < {hi}; ++r) {{\n"
            f"        const int32_t t = {ctx.first_row(name)} + r;\n"
            f"        if (t < 0 || (s->ended && t >= {ctx.length(name)})) {{\n"
            f"            wn_fill_row({y}, {zero}, {t.channels});\n"
            f"            continue;\n"
            f"        }}\n"
            f"        {body}\n"
            f"    }}")


def _real_zero(graph: Graph, tensor: str) -> str:
    t = graph.tensors[tensor]
    return str(t.quant.zero_point) if t.quant is not None else ZERO[t.dtype]

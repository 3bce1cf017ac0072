"""gate: WaveNet's gated activation, tanh(a[tanh_at:][:half]) * sigmoid(a[sigmoid_at:][:half]),
one op fused from slice, tanh, sigmoid and mul (passes/gate.py)."""

from __future__ import annotations

import numpy as np

from wncc.arith.params import GateQ
from wncc.ir import Graph, Node
from wncc.ops.activation import FLOAT, act_entries, act_int, act_params
from wncc.ops.base import Context, Entry, Eval, Op, StepBuilder, act_suffix, register
from wncc.ops.layout import struct
from wncc.ops.mul import mul_int, mul_params


@register
class Gate(Op):
    names = ("gate",)

    def params(self, graph: Graph, node: Node) -> GateQ:
        qin, out = graph.tensors[node.inputs[0]].quant, graph.tensors[node.outputs[0]]
        qt, qs = node.attrs["tanh_quant"], node.attrs["sigmoid_quant"]
        return GateQ(act_params("tanh", qin, qt, out.dtype),
                     act_params("sigmoid", qin, qs, out.dtype), mul_params(qt, qs, out.quant))

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        a, half = ins[0], node.attrs["half"]
        at = a[node.attrs["tanh_at"]:node.attrs["tanh_at"] + half]
        as_ = a[node.attrs["sigmoid_at"]:node.attrs["sigmoid_at"] + half]
        if not ev.integer:
            return FLOAT["tanh"](at) * FLOAT["sigmoid"](as_)
        q = node.attrs["q"]
        return mul_int(q.mul, act_int(q.tanh, at, ev.rounding), act_int(q.sigmoid, as_,
                                                                          ev.rounding),
                       ev.dtype, ev.rounding)

    def step(self, node: Node, ins: list[str], b: StepBuilder, graph: Graph) -> str:
        half, t0, s0 = node.attrs["half"], node.attrs["tanh_at"], node.attrs["sigmoid_at"]
        tanh = b.node("Tanh", [b.channels(ins[0], t0, t0 + half)])
        return b.node("Mul", [tanh, b.node("Sigmoid", [b.channels(ins[0], s0, s0 + half)])])

    def emit(self, node: Node, ctx: Context) -> str:
        y, x, c = ctx.io(node)
        at = f"{node.attrs['tanh_at']}, {node.attrs['sigmoid_at']}"
        sfx = act_suffix(node, ctx)
        w = ctx.weight
        if sfx == "f32":
            return f"wn_gate_f32({y}, {x}, {c}, {at});"
        if sfx == "s16":
            tt, ts = ctx.tables[("", "tanh")].ident, ctx.tables[("", "sigmoid")].ident
            return (f"wn_gate_s16({y}, {x}, {c}, {at}, {tt}, &{w(node, 'qt')}, {ts}, "
                    f"&{w(node, 'qs')}, &{w(node, 'q')});")
        return (f"wn_gate_{sfx}({y}, {x}, {c}, {at}, &{w(node, 'lq_t')}, &{w(node, 'lq_s')}, "
                f"&{w(node, 'q')});")

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        sfx = act_suffix(node, ctx)
        return ("wn_activation_f32.c",) if sfx == "f32" else (f"wn_eltwise_{sfx}.c",)

    def entries(self, graph: Graph, node: Node) -> list[Entry]:
        q = node.attrs["q"]
        return act_entries(q.tanh, "_t") + act_entries(q.sigmoid, "_s") + [struct("q", q.mul)]

"""tanh and sigmoid. Float: wn_mathf.h's libm-free forms (arith/mathf.py). 8-bit: a 256-entry
table, exact by construction, stored without its saturated tails. 16-bit: the input rescaled
onto a fixed domain, the shared 4097-entry Q0.15 table interpolated, the output requantized."""

from __future__ import annotations

import numpy as np

from wncc.arith import mathf
from wncc.arith.params import Act16Q, ActQ, GateQ
from wncc.arith.qmath import clamp, requant
from wncc.arith.tables import (ACT16_DOMAIN_BITS, ACT16_RANGE, ACT16_TABLE_BITS, act16_table,
                               lut8)
from wncc.ir import ACT_DTYPES, Graph, Node, QuantParams
from wncc.ops.base import (Context, Entry, Eval, Op, StepBuilder, act_suffix, one_multiplier,
                           register)
from wncc.ops.layout import struct, trimmed_lut

ACT16_TABLES = {name: act16_table(name) for name in ("tanh", "sigmoid")}
FLOAT = {"tanh": mathf.tanh, "sigmoid": mathf.sigmoid}


def act_params(fn: str, qin: QuantParams, qout: QuantParams, dtype: str) -> ActQ:
    if dtype == "i8":
        return ActQ(fn, lut=lut8(fn, qin.scale, qin.zero_point, qout.scale, qout.zero_point,
                                 *ACT_DTYPES[dtype]))
    im, ish = one_multiplier(qin.scale * (1 << ACT16_DOMAIN_BITS) / ACT16_RANGE[fn])
    om, osh = one_multiplier(1.0 / (32767.0 * qout.scale))
    return ActQ(fn, act16=Act16Q(im, ish, qin.zero_point, om, osh, qout.zero_point))


def act16(fn: str, p: Act16Q, x: np.ndarray, rounding: str) -> np.ndarray:
    """16-bit tanh / sigmoid: rescale onto the fixed domain, interpolate the shared table,
    requantize to the output parameters."""
    domain = 1 << ACT16_DOMAIN_BITS
    u = np.clip(requant(x.astype(np.int64) - p.zp_in, p.in_mult, p.in_shift, rounding),
                -domain, domain - 1) + domain
    frac_bits = ACT16_DOMAIN_BITS + 1 - ACT16_TABLE_BITS
    table = ACT16_TABLES[fn]
    idx, frac = u >> frac_bits, u & ((1 << frac_bits) - 1)
    base = table[idx]
    y = base + (((table[idx + 1] - base) * frac + (1 << (frac_bits - 1))) >> frac_bits)
    return clamp(requant(y, p.out_mult, p.out_shift, rounding) + p.zp_out, "i16")


def act_int(q: ActQ, x: np.ndarray, rounding: str) -> np.ndarray:
    if q.act16 is not None:
        return act16(q.fn, q.act16, x, rounding)
    return q.lut[x.astype(np.int64) + 128]  # the 256-entry table indexed by x + 128


def act_entries(q: ActQ, suffix: str) -> list[Entry]:
    """An 8-bit activation's trimmed table (lut, lut_t, lut_s) or a 16-bit one's parameters
    (q, qt, qs; the shared tables are added once per model)."""
    if q.act16 is not None:
        return [struct("q" + suffix[1:], q.act16)]
    return [("lut" + suffix, "int8_t", trimmed_lut(q.lut)[0], "scale", False)]


def activations(q: object) -> dict[str, ActQ]:
    """A node's tanh/sigmoid parameters by table key: lut (tanh, sigmoid), lut_t and lut_s
    (gate)."""
    if isinstance(q, ActQ):
        return {"lut": q}
    if isinstance(q, GateQ):
        return {"lut_t": q.tanh, "lut_s": q.sigmoid}
    return {}


@register
class Activation(Op):
    names = ("tanh", "sigmoid")

    def params(self, graph: Graph, node: Node) -> ActQ:
        out = graph.tensors[node.outputs[0]]
        return act_params(node.op, graph.tensors[node.inputs[0]].quant, out.quant, out.dtype)

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        if ev.integer:
            return act_int(node.attrs["q"], ins[0], ev.rounding)
        return FLOAT[node.op](ins[0])

    def step(self, node: Node, ins: list[str], b: StepBuilder, graph: Graph) -> str:
        return b.node({"tanh": "Tanh", "sigmoid": "Sigmoid"}[node.op], ins)

    def emit(self, node: Node, ctx: Context) -> str:
        y, x, c = ctx.io(node)
        sfx = act_suffix(node, ctx)
        if sfx == "f32":
            return f"wn_{node.op}_f32({y}, {x}, {c});"
        if sfx == "s16":
            table = ctx.tables[("", node.op)].ident
            return f"wn_act16_s16({y}, {x}, {c}, {table}, &{ctx.weight(node, 'q')});"
        return f"wn_lut_{sfx}({y}, {x}, {c}, &{ctx.weight(node, 'lq')});"

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        sfx = act_suffix(node, ctx)
        return ("wn_activation_f32.c",) if sfx == "f32" else (f"wn_eltwise_{sfx}.c",)

    def entries(self, graph: Graph, node: Node) -> list[Entry]:
        return act_entries(node.attrs["q"], "")

"""One emitter per IR op: the C call that computes a node, given where its tensors live.

Lowering decided what to compute and where (IR, memory plan); emitters only spell it in C.
Float nodes call the ``_f32`` kernels; integer nodes (those with ``attrs["q"]``) call the kernel
of their weight/activation types: ``s8`` (int8), ``s4`` (int4 weights), ``s16`` (int16),
``s8s16`` (int8 weights, int16 activations). A target dialect replaces entries of EMITTERS for the
ops it has optimized kernels for.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from wncc.arith.precision import ACT_KERNEL, CONV_KERNEL
from wncc.codegen.weights import Table
from wncc.ir import Graph, Node
from wncc.passes.memory import Plan



@dataclasses.dataclass
class Context:
    graph: Graph
    plan: Plan
    tables: dict[tuple[str, str], Table]
    in_sample: bool  # emitting the sample program (TABLE tensors are read at row `phase`)
    half: int | None = None  # fp16 (0) / bf16 (1) weights and activation rounding; None otherwise

    def buf(self, tensor: str) -> str:
        loc = self.plan.locations[tensor]
        if loc.region == "class":
            return "x"
        base = f"s->{loc.region}"
        expr = f"{base} + {loc.offset}" if loc.offset else base
        if loc.rows > 1 and self.in_sample:
            expr += f" + s->phase * {self.graph.tensors[tensor].channels}"
        return expr

    def weight(self, node: Node, key: str) -> str:
        return self.tables[(node.name, key)].ident

    def channels(self, tensor: str) -> int:
        return self.graph.tensors[tensor].channels


Emitter = Callable[[Node, Context], str]


def act_suffix(node: Node, ctx: Context) -> str:
    """Kernel suffix of an elementwise op: f32, s8 or s16."""
    if "q" not in node.attrs:
        return "f32"
    return ACT_KERNEL[ctx.graph.tensors[node.outputs[0]].dtype]


def conv_suffix(node: Node, ctx: Context) -> str:
    """Kernel suffix of a convolution from its weight bits and activation type."""
    if "q" not in node.attrs:
        return "f32"
    return CONV_KERNEL[(ctx.graph.tensors[node.outputs[0]].dtype, node.attrs["q"].w_bits)]


def _io(node: Node, ctx: Context) -> tuple[str, str, int]:
    return ctx.buf(node.outputs[0]), ctx.buf(node.inputs[0]), ctx.channels(node.outputs[0])


def _qargs(node: Node, ctx: Context) -> str:
    w = ctx.weight
    return f"{w(node, 'w')}, &{w(node, 'rq')}"


def emit_embed(node: Node, ctx: Context) -> str:
    y, x, c = _io(node, ctx)
    if is_sparse(node):
        sfx, w = act_suffix(node, ctx), ctx.weight
        fill = "0.0f" if sfx == "f32" else str(int(node.attrs["fill"]))  # the stored 0.0
        return f"wn_embed_csr_{sfx}({y}, {w(node, 'values')}, &{w(node, 'sp')}, {fill}, {x});"
    if ctx.half is not None:
        return f"wn_embed_h16({y}, {ctx.weight(node, 'table')}, {x}, {c}, {ctx.half});"
    return f"wn_embed_{act_suffix(node, ctx)}({y}, {ctx.weight(node, 'table')}, {x}, {c});"


def _spmv(node: Node, ctx: Context, y: str, x: str) -> str:
    sfx = conv_suffix(node, ctx)
    fmt = node.attrs["storage"].fmt.kind
    w = ctx.weight
    bias = w(node, "b") if sfx == "f32" else f"&{w(node, 'rq')}"
    return f"wn_spmv_{fmt}_{sfx}({y}, {x}, &{w(node, 'sp')}, {w(node, 'values')}, {bias});"


def is_sparse(node: Node) -> bool:
    choice = node.attrs.get("storage")
    return choice is not None and choice.fmt.kind != "dense"


def _cmsis(node: Node, ctx: Context, y: str, x: str, cin: int, cout: int) -> str:
    """A convolution computed by CMSIS-NN through the adapter (runtime_c/cmsis/wn_cmsis_s8.c)."""
    w = ctx.weight
    bias = w(node, "b") if (node.name, "b") in ctx.tables else "NULL"
    return (f"wn_cmsis_conv_s8({y}, {x}, {w(node, 'w')}, {bias}, {w(node, 'mult')}, "
            f"{w(node, 'shift')}, {cin}, {cout}, {node.attrs['q'].zp_out});")


def emit_conv(node: Node, ctx: Context) -> str:
    y, x, cout = _io(node, ctx)
    cin = ctx.channels(node.inputs[0])
    if node.attrs.get("cmsis_nn"):
        return _cmsis(node, ctx, y, x, cin, cout)
    if is_sparse(node):
        return _spmv(node, ctx, y, x)
    sfx = conv_suffix(node, ctx)
    if sfx == "f32":
        fn, fmt = ("wn_conv_f32", "") if ctx.half is None else ("wn_conv_h16", f", {ctx.half}")
        return f"{fn}({y}, {x}, {ctx.weight(node, 'w')}, {ctx.weight(node, 'b')}, {cin}, {cout}{fmt});"
    return f"wn_conv_{sfx}({y}, {x}, {_qargs(node, ctx)}, {cin}, {cout});"


def emit_conv_ring(node: Node, ctx: Context) -> str:
    y, x, cout = _io(node, ctx)
    a = node.attrs
    cin = ctx.channels(node.inputs[0])
    region, offset = ctx.plan.rings[node.name]
    ring = f"s->{region} + {offset}, &s->ring_pos[{a['ring']}]"
    geometry = f"{cin}, {cout}, {a['kernel']}, {a['dilation']}, {a['ring_len']}"
    if is_sparse(node) or node.attrs.get("cmsis_nn"):
        act = {"f32": "f32", "s8": "s8", "s4": "s8", "s8s16": "s16"}[conv_suffix(node, ctx)]
        scratch = f"s->{ctx.plan.scratch[node.name]}"
        gather = (f"wn_ring_gather_{act}({scratch}, {ring}, {x}, {cin}, {a['kernel']}, "
                  f"{a['dilation']}, {a['ring_len']});")
        if node.attrs.get("cmsis_nn"):  # one 1x1 product over the kernel x cin gathered taps
            return gather + "\n    " + _cmsis(node, ctx, y, scratch, a["kernel"] * cin, cout)
        return gather + "\n    " + _spmv(node, ctx, y, scratch)
    sfx = conv_suffix(node, ctx)
    if sfx == "f32":
        fn, fmt = ("wn_conv_ring_f32", "") if ctx.half is None else ("wn_conv_ring_h16", f", {ctx.half}")
        return f"{fn}({y}, {ring}, {x}, {ctx.weight(node, 'w')}, {ctx.weight(node, 'b')}, {geometry}{fmt});"
    return f"wn_conv_ring_{sfx}({y}, {ring}, {x}, {_qargs(node, ctx)}, {geometry});"


def emit_convt(node: Node, ctx: Context) -> str:
    y, x, cout = _io(node, ctx)
    cin, hop = ctx.channels(node.inputs[0]), node.attrs["factor"]
    sfx = conv_suffix(node, ctx)
    if sfx == "f32":
        fn, fmt = ("wn_convt_f32", "") if ctx.half is None else ("wn_convt_h16", f", {ctx.half}")
        return (f"{fn}({y}, {x}, {ctx.weight(node, 'w')}, {ctx.weight(node, 'b')}, "
                f"{cin}, {cout}, {hop}{fmt});")
    return f"wn_convt_{sfx}({y}, {x}, {_qargs(node, ctx)}, {cin}, {cout}, {hop});"


def _binary(fn: str) -> Emitter:
    def emit(node: Node, ctx: Context) -> str:
        a, b = (ctx.buf(t) for t in node.inputs)
        sfx = act_suffix(node, ctx)
        params = "" if sfx == "f32" else f", &{ctx.weight(node, 'q')}"
        return f"{fn}_{sfx}({ctx.buf(node.outputs[0])}, {a}, {b}, {ctx.channels(node.outputs[0])}{params});"
    return emit


def _activation(fn: str) -> Emitter:
    def emit(node: Node, ctx: Context) -> str:
        y, x, c = _io(node, ctx)
        sfx = act_suffix(node, ctx)
        if sfx == "f32":
            return f"{fn}_f32({y}, {x}, {c});"
        if sfx == "s16":
            table = ctx.tables[("", node.op)].ident
            return f"wn_act16_s16({y}, {x}, {c}, {table}, &{ctx.weight(node, 'q')});"
        return f"wn_lut_{sfx}({y}, {x}, {c}, &{ctx.weight(node, 'lq')});"
    return emit


def _in_suffix(node: Node, ctx: Context) -> str:
    return {"i8": "s8", "i16": "s16"}[ctx.graph.tensors[node.inputs[0]].dtype]


def _rescale(relu: int) -> Emitter:
    def emit(node: Node, ctx: Context) -> str:
        y, x, c = _io(node, ctx)
        sfx = act_suffix(node, ctx)
        if sfx != "f32" and _in_suffix(node, ctx) != sfx:  # between types: mixed precision
            return f"wn_requantize_{_in_suffix(node, ctx)}_{sfx}({y}, {x}, {c}, &{ctx.weight(node, 'q')});"
        if sfx == "f32":
            return f"wn_relu_f32({y}, {x}, {c});"
        return f"wn_rescale_{sfx}({y}, {x}, {c}, &{ctx.weight(node, 'q')}, {relu});"
    return emit


def emit_add_const(node: Node, ctx: Context) -> str:
    y, x, c = _io(node, ctx)
    if ctx.half is not None:
        return f"wn_add_const_h16({y}, {x}, {ctx.weight(node, 'b')}, {c}, {ctx.half});"
    return f"wn_add_const_f32({y}, {x}, {ctx.weight(node, 'b')}, {c});"


def emit_scale(node: Node, ctx: Context) -> str:
    y, x, c = _io(node, ctx)
    sfx = act_suffix(node, ctx)
    if sfx == "f32":
        return f"wn_scale_f32({y}, {x}, {float(node.attrs['value']).hex()}f, {c});"
    return f"wn_scale_{sfx}({y}, {x}, {c}, &{ctx.weight(node, 'q')});"


def emit_gate(node: Node, ctx: Context) -> str:
    y, x, c = _io(node, ctx)
    at = f"{node.attrs['tanh_at']}, {node.attrs['sigmoid_at']}"
    sfx = act_suffix(node, ctx)
    if sfx == "f32":
        return f"wn_gate_f32({y}, {x}, {c}, {at});"
    w = ctx.weight
    if sfx == "s16":
        tt, ts = ctx.tables[("", "tanh")].ident, ctx.tables[("", "sigmoid")].ident
        return (f"wn_gate_s16({y}, {x}, {c}, {at}, {tt}, &{w(node, 'qt')}, {ts}, "
                f"&{w(node, 'qs')}, &{w(node, 'q')});")
    return (f"wn_gate_{sfx}({y}, {x}, {c}, {at}, &{w(node, 'lq_t')}, &{w(node, 'lq_s')}, "
            f"&{w(node, 'q')});")


def emit_quantize(node: Node, ctx: Context) -> str:
    y, x, c = _io(node, ctx)
    q = node.attrs["q"]
    return f"wn_quantize_{act_suffix(node, ctx)}({y}, {x}, {c}, {float(q.scale).hex()}f, {q.zp});"


def emit_view(node: Node, ctx: Context) -> str:
    return ""  # slices and nearest upsampling share their source's storage


EMITTERS: dict[str, Emitter] = {
    "embed": emit_embed,
    "conv": emit_conv,
    "conv_ring": emit_conv_ring,
    "convt": emit_convt,
    "add": _binary("wn_add"),
    "mul": _binary("wn_mul"),
    "add_const": emit_add_const,
    "scale": emit_scale,
    "relu": _rescale(1),
    "requantize": _rescale(0),
    "tanh": _activation("wn_tanh"),
    "sigmoid": _activation("wn_sigmoid"),
    "gate": emit_gate,
    "quantize": emit_quantize,
    "slice": emit_view,
    "upsample": emit_view,
}


def kernel_sources(node: Node, ctx: Context) -> tuple[str, ...]:
    """Runtime sources a node needs (wn_sample.c is always used)."""
    if node.op in ("slice", "upsample"):
        return ()
    if node.attrs.get("cmsis_nn"):
        return ("wn_cmsis_s8.c",) + (("wn_ring_gather.c",) if node.op == "conv_ring" else ())
    if node.op in ("conv", "conv_ring") and is_sparse(node):
        sources = (f"wn_sparse_{conv_suffix(node, ctx)}.c",)
        return sources + (("wn_ring_gather.c",) if node.op == "conv_ring" else ())
    if node.op in ("conv", "conv_ring", "convt"):
        sfx = conv_suffix(node, ctx)
        if sfx == "f32" and ctx.half is not None:
            return ("wn_conv_h16.c",)
        if sfx == "f32":
            return ({"conv": "wn_conv_f32.c", "conv_ring": "wn_conv_ring_f32.c",
                     "convt": "wn_convt_f32.c"}[node.op],)
        return (f"wn_conv_{sfx}.c",)
    sfx = act_suffix(node, ctx)
    if node.op == "requantize" and _in_suffix(node, ctx) != sfx:
        return ("wn_requantize.c",)
    if sfx != "f32":
        return (f"wn_eltwise_{sfx}.c",)
    if node.op in ("tanh", "sigmoid", "gate"):
        return ("wn_activation_f32.c",)
    if ctx.half is not None and node.op in ("embed", "add_const"):
        return ("wn_conv_h16.c",)
    return ("wn_eltwise_f32.c",)


def round_after(node: Node, ctx: Context) -> str:
    """fp16/bf16: the call that rounds a node's output to the 16-bit format."""
    if ctx.half is None or node.op in ("slice", "upsample"):
        return ""
    t = ctx.graph.tensors[node.outputs[0]]
    rows = ctx.plan.locations[node.outputs[0]].rows
    y = ctx.buf(node.outputs[0])
    return f"wn_round_h16({y}, {rows * t.channels}, {ctx.half});"


def describe(node: Node, graph: Graph) -> str:
    """A one-line comment for the emitted call."""
    label = node.attrs.get("label", node.name)
    extra = ""
    if node.op == "conv_ring":
        extra = f" k={node.attrs['kernel']} d={node.attrs['dilation']}"
    if node.attrs.get("cmsis_nn"):
        extra += " (CMSIS-NN)"
    t = graph.tensors[node.outputs[0]]
    return f"{label}: {node.op}{extra} -> {node.outputs[0]} [{t.rate.name.lower()}, {t.dtype}]"

"""One emitter per IR op: the C call that computes a node, given where its tensors live.

Lowering decided what to compute and where (IR, memory plan); emitters only spell it in C.
A target dialect replaces entries of EMITTERS for the ops it has optimized kernels for.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from wncc.codegen.weights import Table
from wncc.ir import Graph, Node, Rate
from wncc.passes.memory import Plan

REGION_EXPR = {"mel": "s->mel", "frame": "s->frame", "arena": "s->arena"}


@dataclasses.dataclass
class Context:
    graph: Graph
    plan: Plan
    tables: dict[tuple[str, str], Table]
    in_sample: bool  # emitting the sample program (TABLE tensors are read at row `phase`)

    def buf(self, tensor: str) -> str:
        loc = self.plan.locations[tensor]
        if loc.region == "class":
            return "x"
        expr = f"{REGION_EXPR[loc.region]} + {loc.offset}" if loc.offset else REGION_EXPR[loc.region]
        if loc.rows > 1 and self.in_sample:
            expr += f" + s->phase * {self.graph.tensors[tensor].channels}"
        return expr

    def weight(self, node: Node, key: str) -> str:
        return self.tables[(node.name, key)].ident

    def channels(self, tensor: str) -> int:
        return self.graph.tensors[tensor].channels


Emitter = Callable[[Node, Context], str]


def _io(node: Node, ctx: Context) -> tuple[str, str, int]:
    return ctx.buf(node.outputs[0]), ctx.buf(node.inputs[0]), ctx.channels(node.outputs[0])


def emit_embed(node: Node, ctx: Context) -> str:
    y, x, c = _io(node, ctx)
    return f"wn_embed_f32({y}, {ctx.weight(node, 'table')}, {x}, {c});"


def emit_conv(node: Node, ctx: Context) -> str:
    y, x, cout = _io(node, ctx)
    return (f"wn_conv_f32({y}, {x}, {ctx.weight(node, 'w')}, {ctx.weight(node, 'b')}, "
            f"{ctx.channels(node.inputs[0])}, {cout});")


def emit_conv_ring(node: Node, ctx: Context) -> str:
    y, x, cout = _io(node, ctx)
    a = node.attrs
    ring = ctx.plan.rings[node.name]
    return (f"wn_conv_ring_f32({y}, s->ring + {ring}, &s->ring_pos[{a['ring']}], {x}, "
            f"{ctx.weight(node, 'w')}, {ctx.weight(node, 'b')}, {ctx.channels(node.inputs[0])}, "
            f"{cout}, {a['kernel']}, {a['dilation']}, {a['ring_len']});")


def emit_convt(node: Node, ctx: Context) -> str:
    y, x, cout = _io(node, ctx)
    return (f"wn_convt_f32({y}, {x}, {ctx.weight(node, 'w')}, {ctx.weight(node, 'b')}, "
            f"{ctx.channels(node.inputs[0])}, {cout}, {node.attrs['factor']});")


def _binary(fn: str) -> Emitter:
    def emit(node: Node, ctx: Context) -> str:
        a, b = (ctx.buf(t) for t in node.inputs)
        return f"{fn}({ctx.buf(node.outputs[0])}, {a}, {b}, {ctx.channels(node.outputs[0])});"
    return emit


def _unary(fn: str) -> Emitter:
    def emit(node: Node, ctx: Context) -> str:
        y, x, c = _io(node, ctx)
        return f"{fn}({y}, {x}, {c});"
    return emit


def emit_add_const(node: Node, ctx: Context) -> str:
    y, x, c = _io(node, ctx)
    return f"wn_add_const_f32({y}, {x}, {ctx.weight(node, 'b')}, {c});"


def emit_scale(node: Node, ctx: Context) -> str:
    y, x, c = _io(node, ctx)
    return f"wn_scale_f32({y}, {x}, {float(node.attrs['value']).hex()}f, {c});"


def emit_gate(node: Node, ctx: Context) -> str:
    y, x, c = _io(node, ctx)
    return f"wn_gate_f32({y}, {x}, {c}, {node.attrs['tanh_at']}, {node.attrs['sigmoid_at']});"


def emit_view(node: Node, ctx: Context) -> str:
    return ""  # slices and nearest upsampling share their source's storage


EMITTERS: dict[str, Emitter] = {
    "embed": emit_embed,
    "conv": emit_conv,
    "conv_ring": emit_conv_ring,
    "convt": emit_convt,
    "add": _binary("wn_add_f32"),
    "mul": _binary("wn_mul_f32"),
    "add_const": emit_add_const,
    "scale": emit_scale,
    "relu": _unary("wn_relu_f32"),
    "tanh": _unary("wn_tanh_f32"),
    "sigmoid": _unary("wn_sigmoid_f32"),
    "gate": emit_gate,
    "slice": emit_view,
    "upsample": emit_view,
}

KERNEL_SOURCES: dict[str, tuple[str, ...]] = {
    "embed": ("wn_eltwise_f32.c",),
    "conv": ("wn_conv_f32.c",),
    "conv_ring": ("wn_conv_ring_f32.c",),
    "convt": ("wn_convt_f32.c",),
    "add": ("wn_eltwise_f32.c",),
    "mul": ("wn_eltwise_f32.c",),
    "add_const": ("wn_eltwise_f32.c",),
    "scale": ("wn_eltwise_f32.c",),
    "relu": ("wn_eltwise_f32.c",),
    "tanh": ("wn_activation_f32.c",),
    "sigmoid": ("wn_activation_f32.c",),
    "gate": ("wn_activation_f32.c",),
    "slice": (),
    "upsample": (),
}
"""Runtime sources each op needs (wn_sample.c is always used)."""


def describe(node: Node, graph: Graph) -> str:
    """A one-line comment for the emitted call."""
    label = node.attrs.get("label", node.name)
    extra = ""
    if node.op == "conv_ring":
        extra = f" k={node.attrs['kernel']} d={node.attrs['dilation']}"
    rate = graph.tensors[node.outputs[0]].rate
    return f"{label}: {node.op}{extra} -> {node.outputs[0]} [{rate.name.lower()}]"

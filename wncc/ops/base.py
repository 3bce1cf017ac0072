"""What an op module defines, the registry, and what every op module shares.

An IR op (``Node.op``) is one ``Op`` subclass in one module of wncc/ops/, registered under its
names. Its methods are the op's whole life after import: ``params`` (integer preparation:
multipliers, shifts, tables; TFLM's Prepare), ``golden`` (the numpy specification the C must
equal), ``emit`` (the C call), ``kernels`` (the runtime_c sources that call needs), ``entries``
(its integer weight and parameter tables) and ``step`` (its nodes in the one-step ONNX graph).
The frontend maps ONNX nodes onto these ops; the passes, the golden model and the code generator
look the op up here instead of switching on it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from wncc.arith.params import QParams
from wncc.arith.precision import ACT_KERNEL, CONV_KERNEL
from wncc.arith.qmath import quantize_multiplier
from wncc.errors import WnccError
from wncc.ir import Graph, Len, Node, Rate
from wncc.ops.step import StepBuilder

Entry = tuple[str, str, np.ndarray, str, bool]  # (key, C type, values, role, is a struct)


@dataclasses.dataclass(frozen=True)
class Eval:
    """How the golden model evaluates a node: integer or float arithmetic, the output tensor's
    type (i8 / i16 / f32) and the requantization rounding of 8-bit paths."""

    integer: bool
    dtype: str
    rounding: str


@dataclasses.dataclass
class Context:
    """Where an emitted call's tensors and tables live (the memory plan and the weight tables)."""

    graph: Graph
    plan: Any  # passes.memory.Plan: locations, rings, scratch
    tables: dict[tuple[str, str], Any]  # (node, key) -> codegen.weights.Table
    in_sample: bool  # emitting the sample program (TABLE tensors are read at row `phase`)
    half: int | None = None  # fp16 (0) / bf16 (1) weights and activation rounding; None otherwise
    row: str | None = None  # frame program: the C variable of the window row being made

    def buf(self, tensor: str) -> str:
        loc = self.plan.locations[tensor]
        if loc.region == "class":  # the sample program's argument: a class, or a value
            return "x" if self.graph.tensors[tensor].dtype == "class" else "&x"
        if self.row is not None:
            return self.row_ptr(tensor, self.row)
        base = f"s->{loc.region}"
        expr = f"{base} + {loc.offset}" if loc.offset else base
        if self.in_sample and (loc.rows > 1 or loc.lo):
            row = "s->phase" if self.graph.tensors[tensor].rate == Rate.TABLE else "0"
            expr += f" + ({row} - ({loc.lo})) * {self.stride(tensor)}"
        return expr

    def stride(self, tensor: str) -> int:
        return self.plan.locations[tensor].stride or self.graph.tensors[tensor].channels

    def row_ptr(self, tensor: str, row: str) -> str:
        """Row ``row`` (relative to the frame's first row) of a frame-program tensor's window."""
        loc = self.plan.locations[tensor]
        base = f"s->{loc.region} + {loc.offset}" if loc.offset else f"s->{loc.region}"
        return f"{base} + (size_t)(({row}) - ({loc.lo})) * {self.stride(tensor)}u"

    def first_row(self, tensor: str) -> str:
        """The absolute row of a frame-program tensor that relative row 0 is: the frame being
        made times its rows per frame."""
        return f"s->made * {self.graph.time.rows[tensor]}"

    def length(self, tensor: str) -> str:
        """A frame-program tensor's length in rows once the utterance has ended, as C."""
        n = self.graph.time.lengths[tensor]
        return f"({n.a} * s->frames + ({n.b}))"

    def weight(self, node: Node, key: str) -> str:
        return self.tables[(node.name, key)].ident

    def channels(self, tensor: str) -> int:
        return self.graph.tensors[tensor].channels

    def io(self, node: Node) -> tuple[str, str, int]:
        """(output buffer, first input buffer, output channels)."""
        return self.buf(node.outputs[0]), self.buf(node.inputs[0]), self.channels(node.outputs[0])


class Op:
    """An IR op. The defaults fit ops without weights, integer parameters or kernels."""

    names: tuple[str, ...] = ()
    copies = False  # moves values without arithmetic: no integer parameters, same quantization

    def params(self, graph: Graph, node: Node) -> QParams:
        raise WnccError(f"{node.op} has no integer implementation", node=node.name)

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        raise NotImplementedError(node.op)

    def sequence(self, node: Node, ins: list[np.ndarray], ev: Eval, pad: list[object]
                 ) -> np.ndarray:
        """The op on whole sequences (C, length) of the conditioning network, rows outside the
        input being ``pad`` (real zero of each input); pointwise ops are their golden."""
        return self.golden(node, ins, ev)

    def emit(self, node: Node, ctx: Context) -> str:
        raise NotImplementedError(node.op)

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        return ()

    def step(self, node: Node, ins: list[str], b: StepBuilder, graph: Graph) -> str:
        """The op in the one-step ONNX graph (wncc/stepgraph.py): its nodes added to ``b``
        from the input values' names ([1, C, 1] floats), the output value's name returned."""
        raise WnccError(f"{node.op} has no one-step ONNX form", node=node.name)

    def entries(self, graph: Graph, node: Node) -> list[Entry]:
        """Integer weight and parameter tables."""
        return []

    def float_weight(self, node: Node, key: str) -> np.ndarray:
        """A float weight in the order its reference kernel walks it."""
        return node.weights[key]

    # -- the time axis (passes/timeaxis.py): pointwise by default ---------------------------
    def rows(self, node: Node, rows: int) -> int:
        """Output time steps per mel frame, from the input's."""
        return rows

    def length(self, node: Node, n: Len) -> Len:
        """Output length from the input's."""
        return n

    def needs(self, node: Node, lo: int, hi: int) -> tuple[int, int]:
        """The input rows [lo', hi') that output rows [lo, hi) read."""
        return lo, hi

    def mixes_time(self, node: Node) -> bool:
        """Whether an output row reads other input rows than its own (history or lookahead)."""
        return False

    def emit_row(self, node: Node, ctx: Context) -> str:
        """The C making row ``ctx.row`` (absolute row ``t``) of the output window of a frame-
        program op; pointwise ops are their one-row call on the row's buffers."""
        return self.emit(node, ctx)


class WindowOp(Op):
    """An op whose output row r reads input rows r - pad_left + j * dilation, j < kernel: a
    padded, dilated convolution over the time axis."""

    def length(self, node: Node, n: Len) -> Len:
        a = node.attrs
        return n + (a.get("pad_left", 0) + a.get("pad_right", 0)
                    - (a["kernel"] - 1) * a["dilation"])

    def needs(self, node: Node, lo: int, hi: int) -> tuple[int, int]:
        a = node.attrs
        left = a.get("pad_left", 0)
        return lo - left, hi - left + (a["kernel"] - 1) * a["dilation"]

    def mixes_time(self, node: Node) -> bool:
        return node.attrs["kernel"] > 1


class TransposedOp(Op):
    """An op whose output row r (uncropped row u = r + crop) sums the input rows i with
    0 <= u - i * stride < kernel: a transposed convolution over the time axis, stride times
    the rows per frame, stride * n + kernel - stride - crop + extra rows."""

    def rows(self, node: Node, rows: int) -> int:
        return rows * node.attrs["factor"]

    def length(self, node: Node, n: Len) -> Len:
        a = node.attrs
        return n.scaled(a["factor"]) + (a["kernel"] - a["factor"] - a["crop"] + a.get("extra", 0))

    def needs(self, node: Node, lo: int, hi: int) -> tuple[int, int]:
        a = node.attrs
        s, k, crop = a["factor"], a["kernel"], a["crop"]
        return -((k - 1 - lo - crop) // s), (hi - 1 + crop) // s + 1

    def mixes_time(self, node: Node) -> bool:
        return True

    def count(self, node: Node, n_in: int) -> int:
        """Output rows over n_in input rows."""
        return self.length(node, Len("frame", 0, n_in)).b


REGISTRY: dict[str, Op] = {}


def register(cls: type[Op]) -> type[Op]:
    """Class decorator: one instance of the op, under each of its names."""
    instance = cls()
    for name in cls.names:
        if name in REGISTRY:
            raise ValueError(f"op {name} registered twice")
        REGISTRY[name] = instance
    return cls


def of(node: Node) -> Op:
    return REGISTRY[node.op]


# ------------------------------------------------------------------ shared by the op modules

def one_multiplier(m: float) -> tuple[int, int]:
    return quantize_multiplier(m)


def multipliers(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pairs = [quantize_multiplier(float(v)) for v in np.atleast_1d(m)]
    return (np.array([p[0] for p in pairs], np.int64), np.array([p[1] for p in pairs], np.int64))


def act_suffix(node: Node, ctx: Context) -> str:
    """Kernel suffix of an elementwise op: f32, s8 or s16."""
    if "q" not in node.attrs:
        return "f32"
    return ACT_KERNEL[ctx.graph.tensors[node.outputs[0]].dtype]


def in_suffix(node: Node, ctx: Context) -> str:
    return ACT_KERNEL[ctx.graph.tensors[node.inputs[0]].dtype]


def conv_suffix(node: Node, ctx: Context) -> str:
    """Kernel suffix of a convolution from its weight bits and activation type."""
    if "q" not in node.attrs:
        return "f32"
    return CONV_KERNEL[(ctx.graph.tensors[node.outputs[0]].dtype, node.attrs["q"].w_bits)]


def is_sparse(node: Node) -> bool:
    choice = node.attrs.get("storage")
    return choice is not None and choice.fmt.kind != "dense"


def float_kernel(ctx: Context, ref: str) -> tuple[str, str]:
    """(function, trailing format argument) of a float kernel: fp32 or its fp16/bf16 form."""
    return (f"wn_{ref}_f32", "") if ctx.half is None else (f"wn_{ref}_h16", f", {ctx.half}")




def repeated_needs(factor: int, lo: int, hi: int) -> tuple[int, int]:
    """Nearest repetition: output row r is input row floor(r / factor)."""
    return lo // factor, (hi - 1) // factor + 1

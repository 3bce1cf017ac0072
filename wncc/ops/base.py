"""What an op module defines, the registry, and what every op module shares.

An IR op (``Node.op``) is one ``Op`` subclass in one module of wncc/ops/, registered under its
names. Its methods are the op's whole life after import: ``params`` (integer preparation:
multipliers, shifts, tables; TFLM's Prepare), ``golden`` (the numpy specification the C must
equal), ``emit`` (the C call), ``kernels`` (the runtime_c sources that call needs) and ``entries``
(its integer weight and parameter tables). The frontend maps ONNX nodes onto these ops; the
passes, the golden model and the code generator look the op up here instead of switching on it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from wncc.arith.params import QParams
from wncc.arith.precision import ACT_KERNEL, CONV_KERNEL
from wncc.arith.qmath import quantize_multiplier
from wncc.errors import WnccError
from wncc.ir import Graph, Node

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

    def buf(self, tensor: str) -> str:
        loc = self.plan.locations[tensor]
        if loc.region == "class":  # the sample program's argument: a class, or a value
            return "x" if self.graph.tensors[tensor].dtype == "class" else "&x"
        base = f"s->{loc.region}"
        expr = f"{base} + {loc.offset}" if loc.offset else base
        if loc.rows > 1 and self.in_sample:
            expr += f" + s->phase * {self.graph.tensors[tensor].channels}"
        return expr

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

    def params(self, graph: Graph, node: Node) -> QParams:
        raise WnccError(f"{node.op} has no integer implementation", node=node.name)

    def golden(self, node: Node, ins: list[np.ndarray], ev: Eval) -> np.ndarray:
        raise NotImplementedError(node.op)

    def emit(self, node: Node, ctx: Context) -> str:
        raise NotImplementedError(node.op)

    def kernels(self, node: Node, ctx: Context) -> tuple[str, ...]:
        return ()

    def entries(self, graph: Graph, node: Node) -> list[Entry]:
        """Integer weight and parameter tables."""
        return []

    def float_weight(self, node: Node, key: str) -> np.ndarray:
        """A float weight in the order its reference kernel walks it."""
        return node.weights[key]


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



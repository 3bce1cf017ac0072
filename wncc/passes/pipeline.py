"""The pass pipeline from an imported graph to the streaming graph that golden model and codegen run."""

from __future__ import annotations

from pathlib import Path

from wncc.frontend.onnx import import_model
from wncc.ir import Graph
from wncc.passes import causality, dce, gate, qprepare, shapes, streaming


def lower(graph: Graph, rounding: str = "double") -> Graph:
    causality.check(graph)
    gate.fuse(graph)
    dce.eliminate(graph)
    streaming.lower(graph)
    shapes.infer(graph)
    return qprepare.prepare(graph, rounding)


def load(path: str | Path, rounding: str = "double") -> Graph:
    """Import an ONNX file and lower it to the streaming IR (integer-prepared if quantized)."""
    return lower(import_model(path), rounding)

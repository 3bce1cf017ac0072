"""The pass pipeline from an imported graph to the streaming graph that golden model and codegen run."""

from __future__ import annotations

from pathlib import Path

from wncc.frontend.onnx import import_model
from wncc.ir import Graph
from wncc.passes import causality, dce, gate, shapes, streaming


def lower(graph: Graph) -> Graph:
    causality.check(graph)
    gate.fuse(graph)
    dce.eliminate(graph)
    streaming.lower(graph)
    return shapes.infer(graph)


def load(path: str | Path) -> Graph:
    """Import an ONNX file and lower it to the streaming IR."""
    return lower(import_model(path))

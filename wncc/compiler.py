"""The compile driver: ONNX file -> lowered IR -> C project on disk."""

from __future__ import annotations

from pathlib import Path

from wncc.codegen import project
from wncc.errors import WnccError
from wncc.ir import Graph
from wncc.passes.pipeline import load
from wncc.targets import load as load_target

DTYPES = ("fp32",)


def compile_model(model: str | Path, out_dir: str | Path, target: str = "host",
                  dtype: str = "fp32", command: str | None = None) -> tuple[Graph, Path]:
    """Compile an ONNX vocoder to a C project in out_dir; returns the lowered graph and the dir."""
    if dtype not in DTYPES:
        raise WnccError(f"dtype '{dtype}' is not supported yet (supported: {', '.join(DTYPES)})")
    tgt = load_target(target)
    graph = load(model)
    graph.dtype = dtype
    command = command or f"wncc compile {Path(model).name} --target {tgt.name} --dtype {dtype}"
    return graph, project.write(graph, tgt, Path(out_dir), command)

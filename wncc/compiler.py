"""The compile driver: ONNX file -> the pipeline's graph -> C project on disk."""

from __future__ import annotations

from pathlib import Path

from wncc.codegen import project
from wncc.ir import Graph
from wncc.pipeline import Ends, prepare


def compile_model(model: str | Path, out_dir: str | Path, target: str = "host",
                  dtype: str = "fp32", command: str | None = None,
                  rounding: str = "single", sparse: list[str] | None = None,
                  cmsis_nn: str | Path | None = None, ends: Ends | None = None
                  ) -> tuple[Graph, Path]:
    """Compile an ONNX vocoder to a C project in out_dir; returns the lowered graph and the dir."""
    graph, tgt = prepare(model, target, dtype, rounding, sparse, cmsis_nn, ends)
    command = command or f"wncc compile {Path(model).name} --target {tgt.name} --dtype {dtype}"
    return graph, project.write(graph, tgt, Path(out_dir), command)

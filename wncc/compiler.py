"""The compile driver: ONNX file -> lowered IR -> C project on disk."""

from __future__ import annotations

from pathlib import Path

from wncc import cmsis_nn as cmsis
from wncc.codegen import project
from wncc.errors import WnccError
from wncc.ir import Graph
from wncc.passes import floatcast, qprepare, storage
from wncc.passes.pipeline import load
from wncc.targets import Target
from wncc.targets import load as load_target

DTYPES = ("fp32", "fp16", "bf16", "int8", "int4", "int16x8", "int16")
INTEGER = ("int8", "int4", "int16x8", "int16")


def prepare(model: str | Path, target: str = "host", dtype: str | None = "fp32",
            rounding: str = "double", sparse: list[str] | None = None,
            cmsis_nn: str | Path | None = None) -> tuple[Graph, Target]:
    """Import, lower and specialize a model for a target: the graph codegen renders.

    An integer dtype needs a quantized (QDQ) model whose precision matches it; dtype None takes
    the model's own precision. cmsis_nn: a CMSIS-NN checkout whose kernels compute the layers
    where their arithmetic equals ours (wncc/cmsis_nn.py)."""
    if dtype is not None and dtype not in DTYPES:
        raise WnccError(f"dtype '{dtype}' is not supported (supported: {', '.join(DTYPES)})")
    if rounding not in ("double", "single"):
        raise WnccError(f"rounding '{rounding}' is not 'double' or 'single'")
    checkout = cmsis.checkout(cmsis_nn) if cmsis_nn else None
    tgt = load_target(target)
    graph = load(model, rounding)
    found = qprepare.precision(graph) if qprepare.is_integer(graph) else "fp32"
    dtype = dtype or found
    if dtype in INTEGER and found == "fp32":
        raise WnccError(f"{Path(model).name} is a float model: --dtype {dtype} needs a quantized "
                        f"model; run 'wncc quantize {Path(model).name} --dtype {dtype} --calib "
                        "DATA -o OUT.onnx' first (or pass --calib to compile)")
    if dtype in ("fp16", "bf16") and found == "fp32":
        floatcast.cast(graph, dtype)
    elif found == "mixed" and dtype in INTEGER:
        pass  # per-layer precisions (--layer-dtype): dtype names the model's base precision
    elif found != dtype:
        raise WnccError(f"{Path(model).name} is a {found} model, not {dtype}: pass --dtype {found}")
    graph.dtype = dtype
    storage.assign(graph, tgt, sparse)
    cmsis.assign(graph, checkout)
    return graph, tgt


def compile_model(model: str | Path, out_dir: str | Path, target: str = "host",
                  dtype: str = "fp32", command: str | None = None,
                  rounding: str = "double", sparse: list[str] | None = None,
                  cmsis_nn: str | Path | None = None) -> tuple[Graph, Path]:
    """Compile an ONNX vocoder to a C project in out_dir; returns the lowered graph and the dir."""
    graph, tgt = prepare(model, target, dtype, rounding, sparse, cmsis_nn)
    command = command or f"wncc compile {Path(model).name} --target {tgt.name} --dtype {dtype}"
    return graph, project.write(graph, tgt, Path(out_dir), command)

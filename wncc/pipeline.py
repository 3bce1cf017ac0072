"""The compile pipeline, one ordered list: an ONNX file -> the graph that the golden model and
the code generator read.

Each pass takes the graph and the options and changes the graph in place. The order matters:
causality is proven on the graph as imported; gates are fused before dead code goes; streaming
turns causal convolutions into ring-buffer steps; shapes are inferred on the streaming graph;
integer preparation turns scales into multipliers; the precision pass checks (or, for fp16 and
bf16, applies) the requested precision; storage, the CMSIS-NN backend and the packed kernels are
chosen per target.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from wncc import cmsis_nn as cmsis
from wncc.arith.precision import DTYPES, INTEGER
from wncc.errors import WnccError
from wncc.frontend.onnx import import_model
from wncc.ir import Graph, Head
from wncc.passes import (causality, dce, floatcast, gate, head, lowered, onehot, packing, qprepare,
                         shapes, storage, streaming, timeaxis)
from wncc.targets import Target
from wncc.targets import load as load_target


@dataclass(frozen=True)
class Ends:
    """The sample loop's two ends as the user sets them, where the graph does not tell: which
    ONNX input is which (``{"samples": NAME, "mel": NAME}``), the output distribution (None:
    detected) and its sampling settings (passes/head.py)."""

    inputs: dict[str, str] | None = None
    output: str | None = None
    head: Head | None = None


@dataclass(frozen=True)
class Options:
    source: str  # the model's file name, for messages
    target: Target
    dtype: str | None  # None: the model's own precision
    rounding: str
    sparse: list[str] | None
    cmsis_nn: cmsis.Checkout | None
    ends: Ends = Ends()


def _precision(graph: Graph, o: Options) -> None:
    """Check the requested precision against the model's; fp16/bf16 are applied here."""
    found = qprepare.precision(graph)
    dtype = o.dtype or found
    if dtype in INTEGER and found == "fp32":
        raise WnccError(f"{o.source} is a float model: --dtype {dtype} needs a quantized model; "
                        f"run 'wncc quantize {o.source} --dtype {dtype} --calib DATA -o OUT.onnx' "
                        "first (or pass --calib to compile)")
    if dtype in ("fp16", "bf16") and found == "fp32":
        floatcast.cast(graph, dtype)
    elif found == "mixed" and dtype in INTEGER:
        pass  # per-layer precisions (--layer-dtype): dtype names the model's base precision
    elif found != dtype:
        raise WnccError(f"{o.source} is a {found} model, not {dtype}: pass --dtype {found}")
    graph.dtype = dtype


Pass = Callable[[Graph, Options], None]
PASSES: list[tuple[str, Pass]] = [
    ("causality", lambda g, o: causality.check(g)),
    ("gate", lambda g, o: gate.fuse(g)),
    ("dce", lambda g, o: dce.eliminate(g)),
    ("streaming", lambda g, o: streaming.lower(g)),
    ("shapes", lambda g, o: shapes.infer(g)),
    ("timeaxis", lambda g, o: setattr(g, "time", timeaxis.analyze(g))),
    ("qprepare", lambda g, o: qprepare.prepare(g, o.rounding)),
    ("precision", _precision),
    ("onehot", lambda g, o: onehot.to_embeddings(g)),
    ("head", lambda g, o: head.choose(g, o.ends.head, o.ends.output)),
    ("storage", lambda g, o: storage.assign(g, o.target, o.sparse)),
    ("cmsis_nn", lambda g, o: cmsis.assign(g, o.cmsis_nn)),
    ("packing", lambda g, o: packing.assign(g, o.target)),
    ("lowered", lambda g, o: lowered.lower(g)),
]


def prepare(model: str | Path, target: str = "host", dtype: str | None = "fp32",
            rounding: str = "single", sparse: list[str] | None = None,
            cmsis_nn: str | Path | None = None, ends: Ends | None = None
            ) -> tuple[Graph, Target]:
    """Import a model and run every pass for a target: the graph codegen renders.

    An integer dtype needs a quantized (QDQ) model whose precision matches it; dtype None takes
    the model's own precision. cmsis_nn: a CMSIS-NN checkout whose kernels compute the layers
    where their arithmetic equals ours (wncc/cmsis_nn.py). ends: input roles and the output
    distribution where the graph does not tell (Ends)."""
    if dtype is not None and dtype not in DTYPES:
        raise WnccError(f"dtype '{dtype}' is not supported (supported: {', '.join(DTYPES)})")
    if rounding not in ("double", "single"):
        raise WnccError(f"rounding '{rounding}' is not 'single' or 'double'")
    options = Options(Path(model).name, load_target(target), dtype, rounding, sparse,
                      cmsis.checkout(cmsis_nn) if cmsis_nn else None, ends or Ends())
    graph = import_model(model, options.ends.inputs)
    for _, run in PASSES:
        run(graph, options)
    return graph, options.target


def load(path: str | Path, rounding: str = "single", ends: Ends | None = None) -> Graph:
    """The graph of a model at its own precision, for the host."""
    return prepare(path, dtype=None, rounding=rounding, ends=ends)[0]

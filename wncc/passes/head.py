"""The output distribution: detected from the output's channels and the samples input's kind,
or as requested (``--distribution``), and checked against the graph.

A class or one-hot input feeds back a class, so its head is categorical over the input's
classes. A scalar input feeds back a value: 2 channels are a Gaussian (mean, log scale), a
multiple of 3 a mixture of logistics (K weights, K means, K log scales), anything else
categorical over that many classes (its value feeds back through the companding table).
"""

from __future__ import annotations

import dataclasses
import math

from wncc.arith.sampling import SAMPLERS
from wncc.errors import WnccError
from wncc.ir import Graph, Head

KINDS = ("categorical", "mol", "gaussian")
COMPANDINGS = ("mulaw", "linear")


def detect(graph: Graph) -> str:
    channels = graph.classes
    if graph.input_kind != "scalar":
        return "categorical"
    if channels == 2:
        return "gaussian"
    return "mol" if channels % 3 == 0 else "categorical"


def choose(graph: Graph, head: Head | None, kind: str | None = None) -> Graph:
    """Set graph.head: ``head``'s settings with ``kind`` (None: detected)."""
    head = head or Head()
    kind = kind or detect(graph)
    channels = graph.classes
    out = graph.producer(graph.output)
    where = out.name if out is not None else None
    if kind not in KINDS:
        raise WnccError(f"output distribution '{kind}' is not one of {', '.join(KINDS)}")
    if head.sampler not in SAMPLERS:
        raise WnccError(f"sampler '{head.sampler}' is not one of {', '.join(SAMPLERS)}")
    if head.companding not in COMPANDINGS:
        raise WnccError(f"companding '{head.companding}' is not one of {', '.join(COMPANDINGS)}")
    if not math.isfinite(head.log_scale_min) or not -1.0 < head.deemphasis < 1.0:
        raise WnccError(f"--log-scale-min {head.log_scale_min} must be finite and --deemphasis "
                        f"{head.deemphasis} within (-1, 1)")
    if kind != "categorical" and graph.input_kind != "scalar":
        raise WnccError(f"a {kind} head draws a value, but the samples input takes a class "
                        f"({graph.input_kind} input): use --distribution categorical or a [1, 1, T] "
                        "float samples input", node=where)
    if kind == "mol" and (channels % 3 or channels < 3):
        raise WnccError(f"a mixture of logistics needs 3K output channels (weights, means, log "
                        f"scales); the output has {channels}", node=where)
    if kind == "gaussian" and channels != 2:
        raise WnccError(f"a Gaussian head needs 2 output channels (mean, log scale); the "
                        f"output has {channels}", node=where)
    if kind == "categorical":
        if channels < 2:
            raise WnccError(f"a categorical head needs at least 2 classes; the output has "
                            f"{channels} channel(s): pass --distribution mol or gaussian", node=where)
        if graph.input_kind != "scalar" and graph.input_classes != channels:
            raise WnccError(f"the output has {channels} classes but the samples input takes "
                            f"{graph.input_classes}: the sampled class is the next input",
                            node=where)
    graph.head = dataclasses.replace(head, kind=kind)
    return graph

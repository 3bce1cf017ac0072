"""The lowered graph's analyses, computed once after every pass: the time axis, the frame and
sample programs, the static memory plan and the statistics. The golden model, the code
generator, ``inspect`` and ``compile`` all read this one object (``lowered.of(graph)``), so they
cannot disagree about what runs when or where it lives."""

from __future__ import annotations

from dataclasses import dataclass

from wncc.ir import Graph
from wncc.passes import memory, stats, timeaxis
from wncc.passes.rates import Programs, split


@dataclass(frozen=True)
class Lowered:
    time: timeaxis.TimeAxis
    programs: Programs
    plan: memory.Plan
    stats: stats.Stats


def lower(graph: Graph) -> Lowered:
    """The pipeline's last pass: analyse the final graph and keep the result on it."""
    graph.lowered = Lowered(timeaxis.of(graph), split(graph), memory.plan(graph),
                            stats.compute(graph))
    return graph.lowered


def of(graph: Graph) -> Lowered:
    """The graph's analyses (computed by the pipeline; for a graph built by hand, on first use)."""
    return graph.lowered if graph.lowered is not None else lower(graph)

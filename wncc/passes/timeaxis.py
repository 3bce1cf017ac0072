"""The time-axis analysis of the conditioning network: rates, lengths, windows and lookahead.

Every tensor of the frame program has ``rows`` time steps per mel frame (1 at the mel's rate, the
hop where it meets the samples, intermediate rates of staged upsamplers between) and a length
affine in the number of frames F (``Len``). Both follow from each op's time rules (wncc/ops/).

To make output frame g (the hop samples g*hop .. g*hop + hop - 1), each frame-program tensor X is
computed over a window of rows [g*rows + lo, g*rows + hi): the sample program reads rows
[g*hop, g*hop + hop) of the conditioning tables, and each op's ``needs`` says which input rows
its output rows read. Walking the frame program backwards gives every window; the mel input's
window says how many frames ahead of g the model looks (``lookahead``: frame g can be made once
frame g + lookahead is pushed) and how many before it it keeps. Rows before 0 and, once the
utterance ended, at or after a tensor's length are padding: real zero.

The sample path is causal by construction (passes/causality.py); the conditioning path may look
ahead a bounded number of frames, which this pass proves and reports.
"""

from __future__ import annotations

import dataclasses

from wncc import ops
from wncc.errors import WnccError
from wncc.ir import Graph, Len, Node, Rate
from wncc.passes.rates import split


@dataclasses.dataclass
class TimeAxis:
    rows: dict[str, int]  # frame-program tensor -> time steps per mel frame
    lengths: dict[str, Len]  # frame-program tensor -> length in rows, affine in the frames F
    windows: dict[str, tuple[int, int]]  # tensor -> rows [lo, hi) relative to g * rows
    lookahead: int  # mel frames after frame g that making frame g needs
    history: int  # mel frames before frame g that it needs
    frames_delta: int  # output frames = F + frames_delta (valid convolutions shorten)
    mixing: bool = False  # some frame-program op reads other rows than its output row's

    @property
    def windowed(self) -> bool:
        """Whether the frame program runs row by row over windows: some op mixes rows, or some
        tensor is computed over more than the rows of its own frame."""
        return self.mixing or self.lookahead > 0 or self.history > 0 or any(
            (lo, hi) != (0, self.rows[t]) for t, (lo, hi) in self.windows.items())

    def window_rows(self, tensor: str) -> int:
        lo, hi = self.windows[tensor]
        return hi - lo


def analyze(graph: Graph) -> TimeAxis:
    programs = split(graph)
    rows: dict[str, int] = {graph.mel_input: 1}
    lengths: dict[str, Len] = {graph.mel_input: Len("frame", 1, 0)}
    for node in programs.frame:
        op = ops.of(node)
        if _repeated_view(graph, node):  # the samples read its frame row hop times
            rows[node.outputs[0]], lengths[node.outputs[0]] = 1, lengths[node.inputs[0]]
            continue
        rows[node.outputs[0]] = op.rows(node, rows[node.inputs[0]])
        lengths[node.outputs[0]] = op.length(node, lengths[node.inputs[0]])
    needed: dict[str, tuple[int, int]] = {}
    delta: set[int] = set()
    for node in programs.sample:
        for t in node.inputs:
            if t in rows:
                needed[t] = _union(needed.get(t), (0, rows[t]))
                delta.add(_frames_delta(graph, node, t, rows[t], lengths[t]))
    for node in reversed(programs.frame):
        out = node.outputs[0]
        if out not in needed:
            continue
        lo, hi = needed[out] if _repeated_view(graph, node) else ops.of(node).needs(node, *needed[out])
        for t in node.inputs:
            needed[t] = _union(needed.get(t), (lo, hi))
    if len(delta) > 1:
        raise WnccError(f"the conditioning tables cover different numbers of frames "
                        f"(F{min(delta):+d} and F{max(delta):+d})")
    mel_lo, mel_hi = needed.get(graph.mel_input, (0, 1))
    axis = TimeAxis(rows, lengths, needed, max(mel_hi - 1, 0), max(-mel_lo, 0),
                    delta.pop() if delta else 0,
                    any(ops.of(n).mixes_time(n) for n in programs.frame if n.outputs[0] in needed))
    if axis.lookahead < -axis.frames_delta:
        raise WnccError(f"the conditioning drops {-axis.frames_delta} frames but looks ahead "
                        f"only {axis.lookahead}")
    return axis


def _union(a: tuple[int, int] | None, b: tuple[int, int]) -> tuple[int, int]:
    return b if a is None else (min(a[0], b[0]), max(a[1], b[1]))


def _repeated_view(graph: Graph, node: Node) -> bool:
    return node.op == "upsample" and graph.tensors[node.outputs[0]].rate == Rate.FRAME


def _frames_delta(graph: Graph, node: Node, tensor: str, rows: int, length: Len) -> int:
    """Output frames minus mel frames, from a conditioning tensor the samples read (a frame row
    read hop times, or a table of hop rows a frame)."""
    if length.a != rows or length.b % rows or rows not in (1, graph.hop):
        raise WnccError(f"conditioning of length {length.text()} at {rows} steps a frame does "
                        f"not cover whole frames of hop {graph.hop}", node=node.name)
    return length.b // rows


def of(graph: Graph) -> TimeAxis:
    """The graph's time axis (computed once by the pipeline's timeaxis pass)."""
    if graph.time is None:
        graph.time = analyze(graph)
    return graph.time

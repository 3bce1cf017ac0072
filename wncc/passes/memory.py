"""Static memory plan: where every tensor lives, with no allocation at run time.

Regions (all inside the state struct, so the RAM report is complete), one array per element
type (``f32``, ``s8``, ``s16``), so a mixed-precision model needs no type punning:

* ``mel``        - the mel frames of the current window (the graph's mel input, float): one
  frame, or the frames before and after it that the conditioning reads (passes/timeaxis.py);
* ``frame_T``    - tensors of the frame program, each the rows of its window; they persist while
  the frame's samples are made;
* ``arena_T``    - per-sample intermediates, packed by lifetime: a tensor's storage is reused once
  its last reader has run (never by that reader's own outputs);
* ``ring_T``     - the ring buffers of the streaming convolutions;
* ``scratch_T``  - the gathered taps of a sparse ring convolution, or of one computed by CMSIS-NN
  (``--cmsis-nn``), the largest one.

Views (channel slices, nearest upsampling) share their source's storage at an offset.
Offsets and sizes count elements; every allocation starts on a multiple of ``ALIGN`` elements.
"""

from __future__ import annotations

import dataclasses

from wncc.ir import VIEW_OPS, Graph
from wncc.ops.conv import gathers
from wncc.passes import timeaxis
from wncc.passes.rates import split

ALIGN = 4
ELEMENT = {"f32": ("float", 4), "s8": ("int8_t", 1), "s16": ("int16_t", 2)}
TYPE_OF = {"f32": "f32", "i8": "s8", "i16": "s16"}


@dataclasses.dataclass(frozen=True)
class Location:
    region: str  # "mel", "class", or "frame_T", "arena_T"
    offset: int
    rows: int = 1  # frame-program tensors hold the rows of their window (timeaxis.py)
    lo: int = 0  # the window's first row, relative to the frame's first (negative: history)
    stride: int = 0  # elements from one row to the next (0: the tensor's channels)


@dataclasses.dataclass
class Plan:
    locations: dict[str, Location]
    sizes: dict[str, int]  # region -> elements
    rings: dict[str, tuple[str, int]]  # conv_ring node -> (ring region, offset)
    scratch: dict[str, str]  # sparse or CMSIS-NN conv_ring node -> its scratch region

    def regions(self) -> list[tuple[str, str, int]]:
        """(name, C element type, elements) of every non-empty typed region, in a fixed order."""
        out = []
        for kind in ("frame", "arena", "ring", "scratch"):
            for t in ELEMENT:
                name = f"{kind}_{t}"
                if self.sizes.get(name):
                    out.append((name, ELEMENT[t][0], self.sizes[name]))
        return out

    def bytes(self, kind: str) -> int:
        return sum(n * ELEMENT[t][1] for t in ELEMENT for name, n in self.sizes.items()
                   if name == f"{kind}_{t}")


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _first_fit(live: list[tuple[int, int]], size: int) -> int:
    offset = 0
    for start, length in sorted(live):
        if offset + size <= start:
            break
        offset = max(offset, _align(start + length))
    return offset


def _type(graph: Graph, tensor: str) -> str:
    return TYPE_OF[graph.tensors[tensor].dtype]


def _grow(sizes: dict[str, int], region: str, end: int) -> None:
    sizes[region] = max(sizes.get(region, 0), _align(end))


def plan(graph: Graph) -> Plan:
    time = timeaxis.of(graph)
    mel_lo, mel_hi = time.windows.get(graph.mel_input, (0, 1))
    loc: dict[str, Location] = {graph.mel_input: Location("mel", 0, mel_hi - mel_lo, mel_lo),
                                graph.class_input: Location("class", 0)}
    sizes: dict[str, int] = {"mel": (mel_hi - mel_lo) * graph.n_mels}
    programs = split(graph)

    def view(node) -> None:
        src = loc[node.inputs[0]]
        stride = src.stride or graph.tensors[node.inputs[0]].channels
        loc[node.outputs[0]] = dataclasses.replace(
            src, offset=src.offset + node.attrs.get("start", 0), stride=stride)

    for node in programs.frame:
        out = graph.tensors[node.outputs[0]]
        if node.op in VIEW_OPS:
            view(node)
            continue
        lo, hi = time.windows.get(out.name, (0, out.rows))
        region = f"frame_{_type(graph, out.name)}"
        start = sizes.get(region, 0)
        loc[out.name] = Location(region, start, hi - lo, lo)
        _grow(sizes, region, start + (hi - lo) * out.channels)
        if gathers(node):  # the dilated taps of a conditioning convolution, gathered
            loc[f"{node.name}/taps"] = Location(region, _align(start + (hi - lo) * out.channels))
            _grow(sizes, region, loc[f"{node.name}/taps"].offset
                  + node.attrs["kernel"] * graph.tensors[node.inputs[0]].channels)

    # root storage of each sample tensor (views resolve to the tensor they look into)
    root: dict[str, str] = {}
    for node in programs.sample:
        out = node.outputs[0]
        root[out] = root.get(node.inputs[0], node.inputs[0]) if node.op in VIEW_OPS else out
    last_use: dict[str, int] = {}
    for step, node in enumerate(programs.sample):
        for t in node.inputs:
            if t in root:
                last_use[root[t]] = step
    last_use[root[graph.output]] = len(programs.sample)

    live: dict[str, tuple[str, int, int]] = {}  # tensor -> (region, offset, size)
    for step, node in enumerate(programs.sample):
        out = node.outputs[0]
        if node.op in VIEW_OPS:
            view(node)
        else:
            region = f"arena_{_type(graph, out)}"
            size = graph.tensors[out].channels
            offset = _first_fit([(o, n) for r, o, n in live.values() if r == region], size)
            live[out] = (region, offset, size)
            loc[out] = Location(region, offset)
            _grow(sizes, region, offset + size)
        for t in [t for t in live if last_use.get(t, -1) <= step]:
            del live[t]

    rings: dict[str, tuple[str, int]] = {}
    scratch: dict[str, str] = {}
    for node in graph.ops("conv_ring"):
        t = _type(graph, node.inputs[0])
        region = f"ring_{t}"
        cin = graph.tensors[node.inputs[0]].channels
        start = sizes.get(region, 0)
        rings[node.name] = (region, start)
        _grow(sizes, region, start + node.attrs["ring_len"] * cin)
        storage = node.attrs.get("storage")
        if (storage is not None and storage.fmt.kind != "dense") or node.attrs.get("cmsis_nn"):
            scratch[node.name] = f"scratch_{t}"
            _grow(sizes, f"scratch_{t}", node.attrs["kernel"] * cin)
    return Plan(loc, sizes, rings, scratch)

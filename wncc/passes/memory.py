"""Static memory plan: where every tensor lives, with no allocation at run time.

Regions (all inside the state struct, so the RAM report is complete):

* ``mel``    - the current mel frame (the graph's mel input);
* ``frame``  - tensors of the frame program; they persist while the frame's samples are made;
* ``arena``  - per-sample intermediates, packed by lifetime: a tensor's storage is reused once its
  last reader has run (never by that reader's own outputs);
* ``ring``   - the ring buffers of the streaming convolutions;
* ``scratch`` - the gathered taps of a sparse ring convolution (the largest one).

Views (channel slices, nearest upsampling) share their source's storage at an offset.
Offsets and sizes count elements; every allocation starts on a multiple of ``ALIGN`` elements.
"""

from __future__ import annotations

import dataclasses

from wncc.ir import VIEW_OPS, Graph, Rate
from wncc.passes.rates import split

ALIGN = 4


@dataclasses.dataclass(frozen=True)
class Location:
    region: str  # "mel", "frame", "arena" or "class"
    offset: int
    rows: int = 1  # TABLE tensors hold `hop` rows of `channels`


@dataclasses.dataclass
class Plan:
    locations: dict[str, Location]
    sizes: dict[str, int]  # region -> elements
    rings: dict[str, int]  # conv_ring node name -> offset in the ring region


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _first_fit(live: list[tuple[int, int]], size: int) -> int:
    offset = 0
    for start, length in sorted(live):
        if offset + size <= start:
            break
        offset = max(offset, _align(start + length))
    return offset


def plan(graph: Graph) -> Plan:
    loc: dict[str, Location] = {graph.mel_input: Location("mel", 0),
                                graph.class_input: Location("class", 0)}
    sizes = {"mel": graph.n_mels, "frame": 0, "arena": 0, "ring": 0, "scratch": 0}
    programs = split(graph)

    for node in programs.frame:
        out = graph.tensors[node.outputs[0]]
        if node.op in VIEW_OPS:
            src = loc[node.inputs[0]]
            loc[out.name] = dataclasses.replace(src, offset=src.offset + node.attrs.get("start", 0))
            continue
        rows = graph.hop if out.rate == Rate.TABLE else 1
        loc[out.name] = Location("frame", sizes["frame"], rows)
        sizes["frame"] = _align(sizes["frame"] + rows * out.channels)

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

    live: dict[str, tuple[int, int]] = {}
    for step, node in enumerate(programs.sample):
        out = node.outputs[0]
        if node.op in VIEW_OPS:
            src = loc[node.inputs[0]]
            loc[out] = dataclasses.replace(src, offset=src.offset + node.attrs.get("start", 0))
        else:
            size = graph.tensors[out].channels
            offset = _first_fit(list(live.values()), size)
            live[out] = (offset, size)
            loc[out] = Location("arena", offset)
            sizes["arena"] = max(sizes["arena"], _align(offset + size))
        for t in [t for t in live if last_use.get(t, -1) <= step]:
            del live[t]

    rings: dict[str, int] = {}
    for node in graph.ops("conv_ring"):
        rings[node.name] = sizes["ring"]
        cin = graph.tensors[node.inputs[0]].channels
        sizes["ring"] = _align(sizes["ring"] + node.attrs["ring_len"] * cin)
        storage = node.attrs.get("storage")
        if storage is not None and storage.fmt.kind != "dense":
            sizes["scratch"] = max(sizes["scratch"], _align(node.attrs["kernel"] * cin))
    return Plan(loc, sizes, rings)

"""Model statistics: receptive field, parameters, multiply-accumulates per sample and per frame."""

from __future__ import annotations

import dataclasses

from wncc.ir import Graph, Rate


@dataclasses.dataclass
class Stats:
    receptive_field: int
    parameters: int
    macs_per_sample: int  # sample-program work
    macs_per_frame: int  # frame-program work (hoisted conditioning)
    layers: list[dict]


PARAMETERS = ("w", "b", "table")
"""The model's own parameters (the float weights; quantized copies and scales are not counted)."""


def row_macs(node) -> int:
    """Multiply-accumulates of one output row (time step)."""
    if node.op in ("conv", "conv_ring"):
        cout, cin, k = node.weights["w"].shape
        return cout * cin * k
    if node.op == "dwconv":
        return int(node.weights["w"].size)
    if node.op in ("convt", "dwconvt"):  # each output row sums ceil(kernel / stride) input rows
        w = node.weights["w"]
        per_tap = w.shape[0] * w.shape[1] if node.op == "convt" else w.shape[0]
        return per_tap * -(-node.attrs.get("kernel", node.attrs["factor"]) // node.attrs["factor"])
    return 0


def node_macs(graph: Graph, node) -> int:
    """A sample-program node's MACs per sample; a frame-program node's per frame (the rows of
    its window, passes/timeaxis.py)."""
    time = graph.time
    rows = 1
    if time is not None and node.outputs[0] in time.windows:
        rows = time.window_rows(node.outputs[0])
    elif graph.tensors[node.outputs[0]].rate == Rate.TABLE:
        rows = graph.tensors[node.outputs[0]].rows
    return row_macs(node) * rows


def compute(graph: Graph) -> Stats:
    reach: dict[str, int] = {graph.class_input: 1, graph.mel_input: 0}
    for node in graph.nodes:
        past = max((reach.get(t, 0) for t in node.inputs), default=0)
        if node.op in ("conv", "conv_ring") and graph.tensors[node.inputs[0]].rate == Rate.SAMPLE:
            past += (node.attrs["kernel"] - 1) * node.attrs["dilation"]
        for t in node.outputs:
            reach[t] = past
    layers, per_sample, per_frame, params = [], 0, 0, 0
    for node in graph.nodes:
        n_params = sum(int(w.size) for k, w in node.weights.items() if k in PARAMETERS)
        macs = node_macs(graph, node)
        rate = graph.tensors[node.outputs[0]].rate
        if rate == Rate.SAMPLE:
            per_sample += macs
        else:
            per_frame += macs
        params += n_params
        if n_params or macs:
            layers.append({"name": node.name, "op": node.op, "rate": rate.name.lower(),
                           "params": n_params, "macs": macs,
                           **{k: v for k, v in node.attrs.items() if k in ("kernel", "dilation")}})
    return Stats(reach[graph.output], params, per_sample, per_frame, layers)

"""Streaming lowering: each causal conv with kernel > 1 becomes a step over a ring buffer.

The ring holds the last (k-1)*d + 1 input vectors. Each sample writes one row at the ring's
position and reads k taps at fixed offsets modulo the ring length, so the cost per sample is
k * Cin * Cout multiply-adds whatever the dilation, and no data ever moves.
"""

from __future__ import annotations

from wncc.ir import Graph, Rate


def lower(graph: Graph) -> Graph:
    ring = 0
    for node in graph.nodes:
        if node.op == "upsample" and not (graph.tensors[node.inputs[0]].rows == 1
                                          and node.attrs["factor"] == graph.hop):
            node.op = "repeat"  # an intermediate rate: the frame program makes its rows
        if node.op != "conv" or graph.tensors[node.inputs[0]].rate != Rate.SAMPLE:
            continue  # conditioning convolutions keep their padding: the frame program's windows
        for key in ("pad_left", "pad_right"):
            node.attrs.pop(key, None)
        if node.attrs["kernel"] > 1:
            node.op = "conv_ring"
            node.attrs["ring_len"] = (node.attrs["kernel"] - 1) * node.attrs["dilation"] + 1
            node.attrs["ring"] = ring
            ring += 1
    return graph

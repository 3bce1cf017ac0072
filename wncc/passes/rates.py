"""Rate analysis: split the graph into a frame program and a sample program.

Shape inference already gave every tensor its rate; this pass orders the work. Nodes producing
FRAME or TABLE tensors run once per mel frame (``wn_push_frame``): the upsampling and, when frames
are repeated, every layer's conditioning projection. Everything else runs once per sample.
"""

from __future__ import annotations

import dataclasses

from wncc.ir import Graph, Node, Rate


@dataclasses.dataclass
class Programs:
    frame: list[Node]
    sample: list[Node]


def split(graph: Graph) -> Programs:
    frame, sample = [], []
    for node in graph.nodes:
        rate = graph.tensors[node.outputs[0]].rate
        (sample if rate == Rate.SAMPLE else frame).append(node)
    return Programs(frame, sample)


def hoisted(programs: Programs) -> list[str]:
    """Names of the nodes that the rate analysis moved to the frame program (computing work)."""
    return [n.name for n in programs.frame if n.op != "upsample"]

"""Dead code elimination: drop nodes whose outputs never reach the logits."""

from __future__ import annotations

from wncc.ir import Graph


def eliminate(graph: Graph) -> Graph:
    live = {graph.output}
    kept = []
    for node in reversed(graph.nodes):
        if any(o in live for o in node.outputs):
            kept.append(node)
            live.update(node.inputs)
    graph.nodes = kept[::-1]
    keep = live | {graph.class_input, graph.mel_input}
    graph.tensors = {k: v for k, v in graph.tensors.items() if k in keep}
    return graph

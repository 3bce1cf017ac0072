"""Causality: every time-mixing op on the sample path may only look at the past.

A causal dilated convolution pads (kernel - 1) * dilation zeros on the left and none on the right,
so output t depends on inputs t - (k-1)d .. t. Anything else (symmetric or right padding, missing
padding that would shorten the sequence) cannot be streamed sample by sample and is refused.
"""

from __future__ import annotations

from wncc.errors import WnccError
from wncc.ir import Graph, Rate


def check(graph: Graph) -> Graph:
    """Convolutions of the sample path; the conditioning path may look ahead (timeaxis.py)."""
    for node in graph.ops("conv"):
        if graph.tensors[node.inputs[0]].rate != Rate.SAMPLE:
            continue
        k, d = node.attrs["kernel"], node.attrs["dilation"]
        left, right = node.attrs["pad_left"], node.attrs["pad_right"]
        need = (k - 1) * d
        if right != 0:
            raise WnccError(f"non-causal convolution: pads (left={left}, right={right}) look into "
                            f"the future; a causal conv pads {need} on the left only",
                            node=node.name)
        if left != need:
            raise WnccError(f"convolution pads {left} on the left but kernel {k} with dilation "
                            f"{d} needs {need} for a causal, length-preserving conv",
                            node=node.name)
    return graph

"""A 1x1 convolution of a one-hot vector is an embedding lookup: row c of its table is what the
convolution computes for class c, W[:, c, 0] + b, at the model's precision.

The table is computed by the convolution's own golden arithmetic (wncc/ops/conv.py) on the Q
one-hot columns, so the lookup equals the convolution bit for bit in every precision (float32
adds b to one product and zeros; integer models requantize exactly what the kernel would;
fp16/bf16 round the result as the model does after every op). A one-hot that also feeds a wider
convolution stays and that convolution stays dense; a one-hot with no reader left goes with
dead code.
"""

from __future__ import annotations

import numpy as np

from wncc import ops
from wncc.arith.halfs import FORMATS, round_to
from wncc.arith.params import EmbedQ
from wncc.ir import Graph, Node, is_integer
from wncc.ops.base import Eval


def _embedding(graph: Graph, onehot: Node, conv: Node) -> Node:
    integer = is_integer(graph)
    ev = Eval(integer, graph.tensors[onehot.outputs[0]].dtype, graph.rounding)
    columns = ops.of(onehot).golden(onehot, [np.arange(onehot.attrs["depth"])[None, :]], ev)
    ev = Eval(integer, graph.tensors[conv.outputs[0]].dtype, graph.rounding)
    table = np.ascontiguousarray(ops.of(conv).golden(conv, [columns], ev).T)
    attrs = {k: v for k, v in conv.attrs.items() if k == "label"}
    if integer:
        attrs["q"] = EmbedQ(table.astype(np.int64))
        table = conv.weights["w"][:, :, 0].T + conv.weights["b"][None, :]  # the real values
    elif graph.dtype in FORMATS:
        table = round_to(table, graph.dtype)
    return Node("embed", conv.name, list(onehot.inputs), list(conv.outputs), attrs,
                {"table": table.astype(np.float32)})


def to_embeddings(graph: Graph) -> Graph:
    """Replace every 1x1 convolution whose only input is a one-hot used by nothing else but
    1x1 convolutions with the equivalent embedding."""
    for onehot in graph.ops("onehot"):
        readers = graph.consumers(onehot.outputs[0])
        if not readers or any(r.op != "conv" or r.attrs["kernel"] != 1 for r in readers):
            continue
        for conv in readers:
            graph.nodes[graph.nodes.index(conv)] = _embedding(graph, onehot, conv)
        graph.nodes.remove(onehot)
        del graph.tensors[onehot.outputs[0]]
    return graph

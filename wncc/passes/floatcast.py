"""fp16 / bf16: weights rounded to the 16-bit format (stored as 2 bytes each); activations are
rounded after every op by the golden model and the C alike."""

from __future__ import annotations

from wncc.errors import WnccError
from wncc.arith.halfs import FORMATS, round_to
from wncc.ir import Graph, is_integer


def cast(graph: Graph, dtype: str) -> Graph:
    if dtype not in FORMATS:
        raise ValueError(dtype)
    if is_integer(graph):
        raise WnccError(f"--dtype {dtype} needs a float model; this one is quantized")
    for node in graph.nodes:
        for key, w in node.weights.items():
            node.weights[key] = round_to(w, dtype)
    graph.dtype = dtype
    return graph

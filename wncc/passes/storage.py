"""Storage choice: the format of every convolution's weight matrix, per layer and per target.

``auto`` runs the cost model (wncc/sparse/cost.py); a global format or ``GLOB=FORMAT`` per layer
(matched against layer labels such as ``layers.3.conv``) overrides it. Sparse kernels exist for
fp32, int8, int4 and int16x8 weights; other precisions and transposed convolutions stay dense.
The choice and its reason are kept in ``node.attrs["storage"]`` for codegen and the report.
"""

from __future__ import annotations

import fnmatch

import numpy as np

from wncc.errors import WnccError
from wncc.ir import Graph, Node
from wncc.sparse import cost
from wncc.sparse.formats import fits, parse

SPARSE_DTYPES = ("fp32", "int8", "int4", "int16x8")


def weight_matrix(node: Node) -> tuple[np.ndarray, int]:
    """[Cout, K * Cin] in tap-major column order, and the value bits."""
    q = node.attrs.get("q")
    w = q["w"] if q is not None else node.weights["w"]
    matrix = np.transpose(w, (0, 2, 1)).reshape(w.shape[0], -1)
    bits = int(q["w_bits"]) if q is not None else 32
    return matrix, bits


def _override(label: str, rules: list[tuple[str, str]]) -> str | None:
    found = None
    for pattern, fmt in rules:
        if fnmatch.fnmatchcase(label, pattern):
            found = fmt
    return found


def parse_rules(specs: list[str] | None) -> tuple[str, list[tuple[str, str]]]:
    """'--sparse' values: one global FORMAT or auto, and any number of GLOB=FORMAT."""
    default, rules = "auto", []
    for spec in specs or []:
        pattern, sep, fmt = spec.rpartition("=")
        if sep:
            rules.append((pattern, fmt))
        else:
            default = fmt
        if fmt != "auto":
            parse(fmt)
    return default, rules


def assign(graph: Graph, target, specs: list[str] | None = None) -> Graph:
    default, rules = parse_rules(specs)
    for node in graph.nodes:
        if node.op not in ("conv", "conv_ring"):
            continue
        label = node.attrs.get("label", node.name)
        wanted = _override(label, rules) or default
        matrix, bits = weight_matrix(node)
        if graph.dtype not in SPARSE_DTYPES:
            if wanted not in ("auto", "dense"):
                raise WnccError(f"sparse storage is available for {', '.join(SPARSE_DTYPES)} "
                                f"weights, not {graph.dtype}", node=node.name)
            wanted = "dense"
        forced = None if wanted == "auto" else parse(wanted)
        if forced is not None and not fits(forced, *matrix.shape):
            raise WnccError(f"block {forced.block[0]}x{forced.block[1]} does not divide the "
                            f"{matrix.shape[0]}x{matrix.shape[1]} weight matrix of {label}",
                            node=node.name)
        node.attrs["storage"] = cost.choose(matrix, bits, target, forced)
    return graph

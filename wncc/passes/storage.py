"""Storage choice: the format of every convolution's weight matrix, per layer and per target.

``auto`` runs the cost model (wncc/sparse/cost.py); a global format or ``GLOB=FORMAT`` per layer
(matched against layer labels such as ``layers.3.conv``) overrides it. Sparse kernels exist for
fp32, int8, int4 and int16x8 weights; other precisions and transposed convolutions stay dense.
The embedding table (a lookup: one row read per sample, so only bytes count) is stored as CSR
rows, the entries that differ from the value of 0.0 (0 in float, the output zero point in
integer models), when that is smaller than the dense table, unless its label is set to dense.
The choice and its reason are kept in ``node.attrs["storage"]`` for codegen and the report.
"""

from __future__ import annotations

import fnmatch

import numpy as np

from wncc.arith.precision import SPARSE
from wncc.errors import WnccError
from wncc.ir import Graph, Node
from wncc.sparse import cost
from wncc.sparse.formats import Format, encode, fits, parse



def weight_matrix(node: Node) -> tuple[np.ndarray, int]:
    """[Cout, K * Cin] in tap-major column order, and the value bits."""
    q = node.attrs.get("q")
    w = q.w if q is not None else node.weights["w"]
    matrix = np.transpose(w, (0, 2, 1)).reshape(w.shape[0], -1)
    bits = int(q.w_bits) if q is not None else 32
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


def embedding_choice(graph: Graph, node: Node, wanted: str) -> cost.Choice:
    """CSR rows of the table's entries other than ``node.attrs["fill"]`` (the stored value of
    0.0), or dense, whichever is smaller; ``wanted == "dense"`` keeps it dense."""
    q = node.attrs.get("q")
    out = graph.tensors[node.outputs[0]]
    if q is not None:
        table, fill, bits = q.table, out.quant.zero_point, 16 if out.dtype == "i16" else 8
    else:
        table, fill, bits = node.weights["table"], 0.0, 32
    node.attrs["fill"] = fill
    dense = encode(table, Format("dense"), bits)
    csr = encode(table - fill, Format("csr"), bits)
    csr.arrays["values"] = csr.arrays["values"] + fill
    sizes = {"dense": cost.stored_bytes(dense), "csr": cost.stored_bytes(csr)}
    pick = "dense" if wanted == "dense" or sizes["csr"] >= sizes["dense"] else "csr"
    density = csr.nnz / table.size
    why = "forced by --sparse" if wanted == "dense" else "fewer bytes (a lookup: bytes only)"
    reason = (f"{why}: {100 * density:.1f}% of entries differ from the value of 0.0; csr "
              f"{sizes['csr']:,} bytes vs dense {sizes['dense']:,}")
    candidates = {k: {"bytes": v} for k, v in sizes.items()}
    return cost.Choice(Format(pick), csr if pick == "csr" else dense, reason, candidates)


def assign(graph: Graph, target, specs: list[str] | None = None) -> Graph:
    default, rules = parse_rules(specs)
    for node in graph.nodes:
        label = node.attrs.get("label", node.name)
        wanted = _override(label, rules) or default
        if node.op == "embed" and graph.dtype in SPARSE:
            node.attrs["storage"] = embedding_choice(graph, node, wanted)
            continue
        if node.op not in ("conv", "conv_ring"):
            continue
        matrix, bits = weight_matrix(node)
        if graph.dtype not in SPARSE:
            if wanted not in ("auto", "dense"):
                raise WnccError(f"sparse storage is available for {', '.join(SPARSE)} "
                                f"weights, not {graph.dtype}", node=node.name)
            wanted = "dense"
        forced = None if wanted == "auto" else parse(wanted)
        if forced is not None and not fits(forced, *matrix.shape):
            raise WnccError(f"block {forced.block[0]}x{forced.block[1]} does not divide the "
                            f"{matrix.shape[0]}x{matrix.shape[1]} weight matrix of {label}",
                            node=node.name)
        node.attrs["storage"] = cost.choose(matrix, bits, target, forced)
    return graph

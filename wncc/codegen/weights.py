"""Weight tables: the layout each kernel reads and their C spelling (exact float literals)."""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from wncc.errors import WnccError
from wncc.ir import Graph, Node


@dataclasses.dataclass(frozen=True)
class Table:
    ident: str  # C identifier
    ctype: str
    values: np.ndarray  # flat, in kernel order
    node: str  # IR node name
    role: str  # "weight", "bias", "table"


def kernel_layout(node: Node, key: str) -> np.ndarray:
    """A weight rearranged into the order its reference kernel walks it."""
    w = node.weights[key]
    if key == "w" and node.op in ("conv", "conv_ring"):
        return np.transpose(w, (2, 1, 0))  # [K][Cin][Cout]
    if key == "w" and node.op == "convt":
        return np.transpose(w, (0, 2, 1))  # [Cin][hop][Cout]
    return w


def tables(graph: Graph) -> dict[tuple[str, str], Table]:
    """Every weight of the graph as a named const table, keyed by (node name, weight key)."""
    out: dict[tuple[str, str], Table] = {}
    used: set[str] = set()
    for node in graph.nodes:
        for key, w in node.weights.items():
            if not np.all(np.isfinite(w)):
                raise WnccError(f"weight '{key}' holds NaN or infinite values", node=node.name)
            base = re.sub(r"[^0-9A-Za-z]+", "_", node.attrs.get("label", node.name)).strip("_")
            ident = f"WN_{base.upper()}_{key.upper()}"
            n = 2
            while ident in used:
                ident = f"WN_{base.upper()}_{key.upper()}_{n}"
                n += 1
            used.add(ident)
            role = "bias" if key == "b" else ("table" if key == "table" else "weight")
            out[(node.name, key)] = Table(ident, "float", np.ascontiguousarray(
                kernel_layout(node, key), dtype=np.float32).reshape(-1), node.name, role)
    return out


def c_initializer(values: np.ndarray, per_line: int = 8) -> str:
    """Values as C float literals; '%.8e' round-trips every float32 exactly."""
    text = np.char.add(np.char.mod("%.8e", values.astype(np.float64)), "f")
    lines = [", ".join(text[i:i + per_line]) for i in range(0, len(text), per_line)]
    return ",\n    ".join(lines)

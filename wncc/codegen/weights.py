"""Weight tables and parameter blocks: the layout each kernel reads and their C spelling."""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from wncc import ops
from wncc.arith.halfs import FORMATS, bits
from wncc.arith.tables import act16_table
from wncc.errors import WnccError
from wncc.ir import Graph, Node
from wncc.ops.activation import activations
from wncc.ops.layout import sparse_entries, sparse_storage, trimmed_lut


@dataclasses.dataclass(frozen=True)
class Table:
    ident: str  # C identifier
    ctype: str
    values: np.ndarray  # flat, in kernel order, stored bytes = values.nbytes
    node: str  # IR node name
    role: str  # "weight", "index", "bias", "table", "scale" (multipliers, shifts, LUTs), "params"
    struct: bool = False  # a parameter struct, not an array
    literal: str | None = None  # initializer text when it is not the values (pointer structs)

    @property
    def text(self) -> str:
        return self.literal if self.literal is not None else c_initializer(self.values)


def rq_fields(tables: dict[tuple[str, str], "Table"], node: Node) -> str:
    """The wn_rq initializer of an integer convolution (runtime_c/include/wn_runtime.h)."""
    bias = tables.get((node.name, "b"))
    mult = tables[(node.name, "mult")]
    per_channel = int(mult.values.size > 1)
    return ", ".join([bias.ident if bias else "NULL", mult.ident, tables[(node.name, "shift")].ident,
                      str(node.attrs["q"].zp_out), str(bias.values.itemsize if bias else 0),
                      str(per_channel)])


# parameter blocks are counted at their size on the 32-bit cores: pointers and int32 fields
RQ_STRUCT_BYTES = 6 * 4
SPARSE_STRUCT_BYTES = 9 * 4
LUT_STRUCT_BYTES = 3 * 4
LUT_KEYS = {"lut": "lq", "lut_t": "lq_t", "lut_s": "lq_s"}  # values -> their wn_lut8 struct


def _sparse_struct(graph: Graph, node: Node, idents: dict[str, str]) -> Table:
    enc = node.attrs["storage"].encoded
    arrays = enc.arrays
    ptr_bytes = arrays["row_ptr"].itemsize if "row_ptr" in arrays else 0
    col_bytes = arrays["col"].itemsize if "col" in arrays else 0
    r, c = enc.fmt.block
    fields = [idents.get("row_ptr", "NULL"), idents.get("col", "NULL"), idents.get("mask", "NULL"),
              str(ptr_bytes), str(col_bytes), str(enc.rows), str(enc.cols), str(r), str(c)]
    return Table("", "wn_sparse", np.zeros(SPARSE_STRUCT_BYTES, np.uint8), node.name, "params",
                 True, literal=", ".join(fields))


ACT16_IDENTS = {"tanh": "WN_TANH_Q15", "sigmoid": "WN_SIGMOID_Q15"}


def tables(graph: Graph) -> dict[tuple[str, str], Table]:
    """Every weight and parameter block as a named const, keyed by (node name, key)."""
    out: dict[tuple[str, str], Table] = {}
    used: set[str] = set()

    def add(node: Node, key: str, ctype: str, values: np.ndarray, role: str, struct: bool) -> None:
        base = re.sub(r"[^0-9A-Za-z]+", "_", node.attrs.get("label", node.name)).strip("_")
        ident = f"WN_{base.upper()}_{key.upper()}"
        n = 2
        while ident in used:
            ident = f"WN_{base.upper()}_{key.upper()}_{n}"
            n += 1
        used.add(ident)
        out[(node.name, key)] = Table(ident, ctype, values, node.name, role, struct)

    def add_sparse_struct(node: Node) -> None:
        idents = {k: out[(node.name, k)].ident for k in ("row_ptr", "col", "mask")
                  if (node.name, k) in out}
        t = _sparse_struct(graph, node, idents)
        add(node, "sp", t.ctype, t.values, t.role, True)
        out[(node.name, "sp")] = dataclasses.replace(out[(node.name, "sp")], literal=t.literal)

    def add_lut_structs(node: Node) -> None:
        for key, act in activations(node.attrs["q"]).items():
            if act.lut is not None:
                struct_key = LUT_KEYS[key]
                _, first, last = trimmed_lut(act.lut)
                add(node, struct_key, "wn_lut8", np.zeros(LUT_STRUCT_BYTES, np.uint8), "params",
                    True)
                out[(node.name, struct_key)] = dataclasses.replace(
                    out[(node.name, struct_key)],
                    literal=f"{out[(node.name, key)].ident}, {first}, {last}")

    def add_rq_struct(node: Node) -> None:
        add(node, "rq", "wn_rq", np.zeros(RQ_STRUCT_BYTES, np.uint8), "params", True)
        out[(node.name, "rq")] = dataclasses.replace(out[(node.name, "rq")],
                                                     literal=rq_fields(out, node))

    for node in graph.nodes:
        if "q" in node.attrs:
            for key, ctype, values, role, struct in ops.of(node).entries(graph, node):
                add(node, key, ctype, values, role, struct)
            if (node.name, "mult") in out and not node.attrs.get("cmsis_nn"):
                add_rq_struct(node)
            add_lut_structs(node)
            if sparse_storage(node):
                add_sparse_struct(node)
            if any(a.act16 is not None for a in activations(node.attrs["q"]).values()):
                # the shared int16 activation tables, once per model
                for fn, ident in ACT16_IDENTS.items():
                    if ("", fn) not in out:
                        out[("", fn)] = Table(ident, "int16_t", act16_table(fn).astype(np.int16),
                                              "", "scale", False)
            continue
        if sparse_storage(node):
            role = "table" if node.op == "embed" else "weight"
            for key, ctype, values, role, struct in sparse_entries(node, 32, role):
                add(node, key, ctype, values, role, struct)
            if "b" in node.weights:
                add(node, "b", "float", node.weights["b"].astype(np.float32), "bias", False)
            add_sparse_struct(node)
            continue
        for key, w in node.weights.items():
            if not np.all(np.isfinite(w)):
                raise WnccError(f"weight '{key}' holds NaN or infinite values", node=node.name)
            role = "bias" if key == "b" else ("table" if key == "table" else "weight")
            values = np.ascontiguousarray(ops.of(node).float_weight(node, key),
                                          dtype=np.float32).reshape(-1)
            if graph.dtype in FORMATS:  # stored as 16-bit codes
                add(node, key, "uint16_t", bits(values, graph.dtype), role, False)
            else:
                add(node, key, "float", values, role, False)
    return out


def c_initializer(values: np.ndarray, per_line: int = 8) -> str:
    """Values as C literals: '%.8e' round-trips every float32; integers as decimals."""
    if values.dtype.kind == "f":
        text = np.char.add(np.char.mod("%.8e", values.astype(np.float64)), "f")
    else:
        big = np.abs(values.astype(np.int64)) > 2 ** 31 - 1
        text = np.char.add(values.astype(np.int64).astype(str), np.where(big, "LL", ""))
    lines = [", ".join(text[i:i + per_line]) for i in range(0, len(text), per_line)]
    return ",\n    ".join(lines)

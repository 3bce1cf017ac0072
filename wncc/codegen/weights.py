"""Weight tables and parameter blocks: the layout each kernel reads and their C spelling."""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from wncc.errors import WnccError
from wncc.golden.halfs import FORMATS, bits
from wncc.ir import Graph, Node
from wncc.passes.qprepare import act16_table

INT_CTYPES = {8: "int8_t", 16: "int16_t", 32: "int32_t", 64: "int64_t"}
ACT_BITS = {"i8": 8, "i16": 16}


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


def float_layout(node: Node, key: str) -> np.ndarray:
    """A float weight rearranged into the order its reference kernel walks it."""
    w = node.weights[key]
    if key == "w" and node.op in ("conv", "conv_ring"):
        return np.transpose(w, (2, 1, 0))  # [K][Cin][Cout]
    if key == "w" and node.op == "convt":
        return np.transpose(w, (0, 2, 1))  # [Cin][hop][Cout]
    return w


def pack_int4(values: np.ndarray) -> np.ndarray:
    """Two int4 values per byte, element j in byte j // 2, low nibble first."""
    v = (values.reshape(-1).astype(np.int64) & 0xF).astype(np.uint8)
    if v.size % 2:
        v = np.append(v, np.uint8(0))
    return (v[0::2] | (v[1::2] << 4)).astype(np.uint8)


def _int_entries(graph: Graph, node: Node) -> list[tuple[str, str, np.ndarray, str, bool]]:
    """(key, ctype, values, role, struct) of an integer node."""
    q = node.attrs["q"]
    act = ACT_BITS.get(graph.tensors[node.outputs[0]].dtype, 8)
    acc = 64 if act == 16 else 32
    out: list[tuple[str, str, np.ndarray, str, bool]] = []
    if node.op in ("conv", "conv_ring", "convt"):
        w = q["w"]
        layout = np.transpose(w, (0, 2, 1)) if node.op != "convt" else np.transpose(w, (2, 1, 0))
        bits = 16 if q["w_bits"] == 16 else 8
        if sparse_storage(node):
            out.extend(_sparse_entries(node, q["w_bits"]))
        elif q["w_bits"] == 4:
            out.append(("w", "uint8_t", pack_int4(layout), "weight", False))
        else:
            out.append(("w", INT_CTYPES[bits], layout.reshape(-1).astype(f"int{bits}"), "weight", False))
        out.append(("b", INT_CTYPES[acc], q["bias"].astype(f"int{acc}"), "bias", False))
        out.append(("mult", "int32_t", q["mult"].astype(np.int32), "scale", False))
        out.append(("shift", "int32_t", q["shift"].astype(np.int32), "scale", False))
    elif node.op == "embed":
        out.append(("table", INT_CTYPES[act], q["table"].reshape(-1).astype(f"int{act}"), "table", False))
    elif node.op in ("tanh", "sigmoid") and "act16" in q:
        out.append(("q", "wn_act16_q", _act16_fields(q["act16"]), "params", True))
    elif node.op in ("tanh", "sigmoid"):
        out.append(("lut", INT_CTYPES[act], q["lut"].astype(f"int{act}"), "scale", False))
    elif node.op == "gate" and "act16_t" in q:
        out.append(("qt", "wn_act16_q", _act16_fields(q["act16_t"]), "params", True))
        out.append(("qs", "wn_act16_q", _act16_fields(q["act16_s"]), "params", True))
        fields = [q["mult"], q["shift"], q["zp_t"], q["zp_s"], q["zp_out"], 1]
        out.append(("q", "wn_mul_q", np.array(fields, np.int32), "params", True))
    elif node.op == "gate":
        out.append(("lut_t", INT_CTYPES[act], q["lut_t"].astype(f"int{act}"), "scale", False))
        out.append(("lut_s", INT_CTYPES[act], q["lut_s"].astype(f"int{act}"), "scale", False))
        fields = [q["mult"], q["shift"], q["zp_t"], q["zp_s"], q["zp_out"], 1]
        out.append(("q", "wn_mul_q", np.array(fields, np.int32), "params", True))
    elif node.op == "add":
        fields = [q[k] for k in ("left_shift", "a_mult", "a_shift", "b_mult", "b_shift",
                                 "out_mult", "out_shift", "zp_a", "zp_b", "zp_out")]
        out.append(("q", "wn_add_q", np.array(fields, np.int32), "params", True))
    elif node.op in ("mul", "scale"):
        fields = [q["mult"], q["shift"], q["zp_a"], q["zp_b"], q["zp_out"], q.get("c", 1)]
        out.append(("q", "wn_mul_q", np.array(fields, np.int32), "params", True))
    elif node.op in ("relu", "requantize"):
        fields = [q["mult"], q["shift"], q["zp_in"], q["zp_out"]]
        out.append(("q", "wn_rescale_q", np.array(fields, np.int32), "params", True))
    return out


def sparse_storage(node: Node):
    """The node's storage choice when it is not dense, else None."""
    choice = node.attrs.get("storage")
    return choice if choice is not None and choice.fmt.kind != "dense" else None


def _sparse_entries(node: Node, value_bits: int) -> list[tuple[str, str, np.ndarray, str, bool]]:
    enc = node.attrs["storage"].encoded
    values = enc.arrays["values"]
    if value_bits == 4:
        stored = ("values", "uint8_t", pack_int4(values), "weight", False)
    elif value_bits == 32:
        stored = ("values", "float", values.astype(np.float32), "weight", False)
    else:
        stored = ("values", INT_CTYPES[value_bits], values.astype(f"int{value_bits}"), "weight", False)
    out = [stored]
    for key in ("row_ptr", "col", "mask"):
        if key in enc.arrays:
            a = enc.arrays[key]
            out.append((key, f"{a.dtype.name}_t", a, "index", False))
    return out


def _sparse_struct(graph: Graph, node: Node, idents: dict[str, str]) -> Table:
    enc = node.attrs["storage"].encoded
    arrays = enc.arrays
    ptr_bytes = arrays["row_ptr"].itemsize if "row_ptr" in arrays else 0
    col_bytes = arrays["col"].itemsize if "col" in arrays else 0
    r, c = enc.fmt.block
    fields = [idents.get("row_ptr", "NULL"), idents.get("col", "NULL"), idents.get("mask", "NULL"),
              str(ptr_bytes), str(col_bytes), str(enc.rows), str(enc.cols), str(r), str(c)]
    return Table("", "wn_sparse", np.zeros(0, np.int32), node.name, "params", True,
                 literal=", ".join(fields))


def _act16_fields(p: dict) -> np.ndarray:
    return np.array([p["in_mult"], p["in_shift"], p["zp_in"], p["out_mult"], p["out_shift"],
                     p["zp_out"]], np.int32)


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

    for node in graph.nodes:
        if "q" in node.attrs:
            for key, ctype, values, role, struct in _int_entries(graph, node):
                add(node, key, ctype, values, role, struct)
            if sparse_storage(node):
                add_sparse_struct(node)
            q = node.attrs["q"]
            if any(k in q for k in ("act16", "act16_t")):  # shared int16 activation tables
                for fn, ident in ACT16_IDENTS.items():
                    if ("", fn) not in out:
                        out[("", fn)] = Table(ident, "int16_t", act16_table(fn).astype(np.int16),
                                              "", "scale", False)
            continue
        if sparse_storage(node):
            for key, ctype, values, role, struct in _sparse_entries(node, 32):
                add(node, key, ctype, values, role, struct)
            add(node, "b", "float", node.weights["b"].astype(np.float32), "bias", False)
            add_sparse_struct(node)
            continue
        for key, w in node.weights.items():
            if not np.all(np.isfinite(w)):
                raise WnccError(f"weight '{key}' holds NaN or infinite values", node=node.name)
            role = "bias" if key == "b" else ("table" if key == "table" else "weight")
            values = np.ascontiguousarray(float_layout(node, key), dtype=np.float32).reshape(-1)
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

"""Weight tables and parameter blocks: the layout each kernel reads and their C spelling."""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from wncc.arith.halfs import FORMATS, bits
from wncc.arith.params import ActQ, ConvQ, CStruct, GateQ
from wncc.arith.tables import act16_table
from wncc.errors import WnccError
from wncc.ir import Graph, Node

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


def _struct(key: str, q: CStruct) -> tuple[str, str, np.ndarray, str, bool]:
    return (key, q.C_NAME, q.c_values(), "params", True)


def _act_entries(q: ActQ, suffix: str) -> list[tuple[str, str, np.ndarray, str, bool]]:
    """An 8-bit activation's trimmed table (lut, lut_t, lut_s) or a 16-bit one's parameters (q,
    qt, qs; the shared tables are added once per model)."""
    if q.act16 is not None:
        return [_struct("q" + suffix[1:], q.act16)]
    return [("lut" + suffix, "int8_t", trimmed_lut(q.lut)[0], "scale", False)]


def _int_entries(graph: Graph, node: Node) -> list[tuple[str, str, np.ndarray, str, bool]]:
    """(key, ctype, values, role, struct) of an integer node."""
    q = node.attrs["q"]
    act = ACT_BITS.get(graph.tensors[node.outputs[0]].dtype, 8)
    acc = 64 if act == 16 else 32
    out: list[tuple[str, str, np.ndarray, str, bool]] = []
    if node.attrs.get("cmsis_nn"):
        return _cmsis_entries(q)
    if node.op in ("conv", "conv_ring", "convt"):
        w = q.w
        layout = np.transpose(w, (0, 2, 1)) if node.op != "convt" else np.transpose(w, (2, 1, 0))
        bits = 16 if q.w_bits == 16 else 8
        if sparse_storage(node):
            out.extend(_sparse_entries(node, q.w_bits))
        elif q.w_bits == 4:
            out.append(("w", "uint8_t", pack_int4(layout), "weight", False))
        else:
            out.append(("w", INT_CTYPES[bits], layout.reshape(-1).astype(f"int{bits}"), "weight", False))
        bias = narrow_bias(q.bias, acc)
        if bias.size:
            out.append(("b", INT_CTYPES[8 * bias.itemsize], bias, "bias", False))
        mult, shift = shared_requant(q.mult, q.shift)
        out.append(("mult", "int32_t", mult, "scale", False))
        out.append(("shift", "int8_t", shift, "scale", False))
    elif node.op == "embed" and sparse_storage(node):
        out.extend(_sparse_entries(node, act, value_role="table"))
    elif node.op == "embed":
        out.append(("table", INT_CTYPES[act], q.table.reshape(-1).astype(f"int{act}"), "table", False))
    elif node.op in ("tanh", "sigmoid"):
        out.extend(_act_entries(q, ""))
    elif node.op == "gate":
        out.extend(_act_entries(q.tanh, "_t") + _act_entries(q.sigmoid, "_s"))
        out.append(_struct("q", q.mul))
    elif node.op in ("add", "mul", "scale", "relu", "requantize"):
        out.append(_struct("q", q))
    return out


def _cmsis_entries(q: ConvQ) -> list[tuple[str, str, np.ndarray, str, bool]]:
    """A convolution computed by CMSIS-NN (wncc/cmsis_nn.py) in the layout its s8 kernels read:
    int8 weights [Cout][K][Cin] (our dense layout: the gathered taps are tap-major), int32
    biases (none when all are zero: the kernel takes NULL), and one int32 multiplier and int32
    shift per output channel (CMSIS-NN has no shared pair)."""
    w = q.w
    cout = w.shape[0]
    out = [("w", "int8_t", np.transpose(w, (0, 2, 1)).reshape(-1).astype(np.int8), "weight", False)]
    bias = np.asarray(q.bias, dtype=np.int64).reshape(-1)
    if np.any(bias):
        out.append(("b", "int32_t", bias.astype(np.int32), "bias", False))
    for key, v in (("mult", q.mult), ("shift", q.shift)):
        values = np.broadcast_to(np.asarray(v, dtype=np.int64).reshape(-1), (cout,))
        out.append((key, "int32_t", values.astype(np.int32), "scale", False))
    return out


def narrow_bias(bias: np.ndarray, acc_bits: int) -> np.ndarray:
    """A layer's biases in the narrowest signed type that holds them all (at most the
    accumulator's), or an empty array when they are all zero (the kernel then adds none)."""
    b = np.asarray(bias, dtype=np.int64).reshape(-1)
    if not np.any(b):
        return np.zeros(0, np.int8)
    for width in (8, 16, 32):
        if width < acc_bits and -(1 << (width - 1)) <= b.min() and b.max() < 1 << (width - 1):
            return b.astype(f"int{width}")
    return b.astype(f"int{acc_bits}")


def shared_requant(mult: np.ndarray, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (multiplier, shift) arrays, or one pair when every channel has the same
    (per-tensor weight scales); shifts as int8 (QuantizeMultiplier gives -31..30)."""
    m = np.asarray(mult, dtype=np.int64).reshape(-1)
    e = np.asarray(shift, dtype=np.int64).reshape(-1)
    if e.size and (e.min() < -128 or e.max() > 127):
        raise WnccError(f"requantization shift {int(e.min())}..{int(e.max())} does not fit int8")
    if m.size > 1 and np.all(m == m[0]) and np.all(e == e[0]):
        m, e = m[:1], e[:1]
    return m.astype(np.int32), e.astype(np.int8)


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


def trimmed_lut(lut: np.ndarray) -> tuple[np.ndarray, int, int]:
    """An int8 table without its saturated tails: (entries first..last, first, last); the
    entries before first equal entry first, those after last equal entry last."""
    v = np.asarray(lut, dtype=np.int64).reshape(-1)
    first, last = 0, v.size - 1
    while first < last and v[first + 1] == v[first]:
        first += 1
    while last > first and v[last - 1] == v[last]:
        last -= 1
    return v[first:last + 1].astype(np.int8), first, last


LUT_KEYS = {"lut": "lq", "lut_t": "lq_t", "lut_s": "lq_s"}  # values -> their wn_lut8 struct


def _activations(q: object) -> dict[str, ActQ]:
    """A node's tanh/sigmoid parameters by table key: lut (tanh, sigmoid), lut_t and lut_s
    (gate)."""
    if isinstance(q, ActQ):
        return {"lut": q}
    if isinstance(q, GateQ):
        return {"lut_t": q.tanh, "lut_s": q.sigmoid}
    return {}


def sparse_storage(node: Node):
    """The node's storage choice when it is not dense, else None."""
    choice = node.attrs.get("storage")
    return choice if choice is not None and choice.fmt.kind != "dense" else None


def _sparse_entries(node: Node, value_bits: int, value_role: str = "weight"
                    ) -> list[tuple[str, str, np.ndarray, str, bool]]:
    enc = node.attrs["storage"].encoded
    values = enc.arrays["values"]
    if value_bits == 4:
        stored = ("values", "uint8_t", pack_int4(values), value_role, False)
    elif value_bits == 32:
        stored = ("values", "float", values.astype(np.float32), value_role, False)
    else:
        stored = ("values", INT_CTYPES[value_bits], values.astype(f"int{value_bits}"), value_role,
                  False)
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
        for key, act in _activations(node.attrs["q"]).items():
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
            for key, ctype, values, role, struct in _int_entries(graph, node):
                add(node, key, ctype, values, role, struct)
            if (node.name, "mult") in out and not node.attrs.get("cmsis_nn"):
                add_rq_struct(node)
            add_lut_structs(node)
            if sparse_storage(node):
                add_sparse_struct(node)
            if any(a.act16 is not None for a in _activations(node.attrs["q"]).values()):
                # the shared int16 activation tables, once per model
                for fn, ident in ACT16_IDENTS.items():
                    if ("", fn) not in out:
                        out[("", fn)] = Table(ident, "int16_t", act16_table(fn).astype(np.int16),
                                              "", "scale", False)
            continue
        if sparse_storage(node):
            role = "table" if node.op == "embed" else "weight"
            for key, ctype, values, role, struct in _sparse_entries(node, 32, role):
                add(node, key, ctype, values, role, struct)
            if "b" in node.weights:
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

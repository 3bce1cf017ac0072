"""Time lengths as symbols: shape arithmetic on a dynamic time axis, folded at import.

A graph exported with a dynamic time axis computes lengths at run time: ``Shape`` of a tensor,
``Gather`` of its last dimension, ``Unsqueeze`` and ``Concat`` into the ends of a ``Slice`` (r9y9's
``x[:, :, :residual.size(-1)]``). Every time length in a WaveNet vocoder is affine in one of the
two input lengths, the samples T or the mel frames F, so the importer tracks it as ``Len``:
``a * N + b`` with N the named input length. Shape arithmetic on such values is evaluated here
with numpy object arrays; a result that is not affine (a product of two lengths, a division
that does not divide) is refused by the caller.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from wncc.ir import Len


def is_symbolic(value: object) -> bool:
    return isinstance(value, np.ndarray) and value.dtype == object


def _attr(node: onnx.NodeProto, name: str, default):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def evaluate(node: onnx.NodeProto, ins: list[np.ndarray]) -> list[np.ndarray] | None:
    """The outputs of a shape-arithmetic node on object arrays holding ``Len``s, or None when
    the op is not one that shape arithmetic uses."""
    ins = [i if isinstance(i, np.ndarray) else np.asarray(i, dtype=object) for i in ins]
    op = node.op_type
    x = ins[0]
    if op in ("Cast", "Identity"):
        return [x]
    if op == "Gather":
        idx = np.asarray(ins[1]).astype(np.int64)
        return [np.take(x, idx, axis=int(_attr(node, "axis", 0)))]
    if op == "Unsqueeze":
        axes = ins[1] if len(ins) > 1 else _attr(node, "axes", [0])
        out = x
        for ax in sorted(int(a) % (x.ndim + len(np.atleast_1d(axes))) for a in np.atleast_1d(axes)):
            out = np.expand_dims(out, ax)
        return [out]
    if op == "Squeeze":
        axes = ins[1] if len(ins) > 1 else _attr(node, "axes", None)
        return [np.squeeze(x, axis=None if axes is None else tuple(int(a) for a in axes))]
    if op == "Concat":
        return [np.concatenate([np.atleast_1d(np.asarray(i, dtype=object)) for i in ins],
                               axis=int(_attr(node, "axis", 0)))]
    if op == "Reshape":
        return [x.reshape([int(d) for d in ins[1]])]
    if op == "Slice":
        starts, ends = (np.atleast_1d(ins[1]), np.atleast_1d(ins[2]))
        if x.ndim != 1 or len(starts) != 1:
            return None
        return [x[int(starts[0]):int(min(int(ends[0]), x.size))]]
    binary = {"Add": lambda p, q: p + q, "Sub": lambda p, q: p - q,
              "Mul": lambda p, q: p * q}
    if op in binary:
        a, b = (np.asarray(i, dtype=object) for i in ins)
        return [np.asarray(binary[op](a, b), dtype=object)]
    if op == "Div":
        a, b = (np.asarray(i, dtype=object) for i in ins)
        flat = [_divide(p, q) for p, q in zip(*(np.broadcast_arrays(a, b)))]
        if any(v is None for v in flat):
            return None
        return [np.array(flat, dtype=object).reshape(np.broadcast(a, b).shape)]
    return None


def _divide(p: object, q: object) -> object:
    if isinstance(q, Len):
        return None
    k = int(q)  # type: ignore[call-overload]
    if isinstance(p, Len):
        return Len(p.base, p.a // k, p.b // k) if p.a % k == 0 and p.b % k == 0 else None
    return int(p) // k  # type: ignore[call-overload]

"""Op by op against the QDQ specification: how far each integer op of the golden model (and so of
the C) lands from what the ONNX graph specifies for the *same* integer inputs: dequantize the
inputs, compute the op in float64, quantize (round half to even, saturate).

End to end, ONNX Runtime's float simulation and an exact integer pipeline drift apart as one-step
differences propagate through the layers; this check isolates each op's own arithmetic, which is
where the integer implementation makes its choices (fixed-point multipliers, tables).
"""

from __future__ import annotations

import numpy as np

from wncc.arith.tables import FUNCTIONS, sigmoid
from wncc.golden.model import GoldenModel
from wncc.ir import ACT_DTYPES, Graph, Node, QuantParams

F64 = np.float64


def _real(q: QuantParams, v: np.ndarray) -> np.ndarray:
    return q.scale * (v.astype(F64) - q.zero_point)


def _quantize(q: QuantParams, dtype: str, real: np.ndarray) -> np.ndarray:
    lo, hi = ACT_DTYPES[dtype]
    return np.clip(np.rint(real / q.scale) + q.zero_point, lo, hi)


def _conv_real(node: Node, graph: Graph, taps: list[np.ndarray]) -> np.ndarray:
    w = node.weights
    qin = graph.tensors[node.inputs[0]].quant
    wreal = w["wq"].astype(F64) * w["w_scale"][:, None, None]
    bias = (w["bq"] * w["b_scale"]) if "bq" in w else w["b"].astype(F64)
    acc = np.repeat(bias[:, None], taps[0].shape[1], axis=1)
    for k, tap in enumerate(taps):
        acc += wreal[:, :, k] @ _real(qin, tap)
    return acc


def op_reference(graph: Graph, node: Node, env: dict[str, np.ndarray]) -> np.ndarray | None:
    """The QDQ-specified integer output of a sample-rate node from the golden inputs in env."""
    t = {name: graph.tensors[name] for name in (*node.inputs, node.outputs[0])}
    out = t[node.outputs[0]]
    ins = [env[name] for name in node.inputs]
    q = [t[name].quant for name in node.inputs]
    op = node.op
    if op in ("conv", "conv_ring"):
        if op == "conv":
            taps = [ins[0]]
        else:
            k, d = node.attrs["kernel"], node.attrs["dilation"]
            pad = np.full((ins[0].shape[0], (k - 1) * d), q[0].zero_point)
            xp = np.concatenate([pad, ins[0]], axis=1)
            taps = [xp[:, j * d: j * d + ins[0].shape[1]] for j in range(k)]
        real = _conv_real(node, graph, taps)
    elif op == "add":
        real = _real(q[0], ins[0]) + _real(q[1], ins[1])
    elif op == "mul":
        real = _real(q[0], ins[0]) * _real(q[1], ins[1])
    elif op == "scale":
        real = _real(q[0], ins[0]) * node.attrs["value"]
    elif op in ("relu", "requantize"):
        real = _real(q[0], ins[0])
        real = np.maximum(real, 0) if op == "relu" else real
    elif op in ("tanh", "sigmoid"):
        real = FUNCTIONS[op](_real(q[0], ins[0]))
    elif op == "gate":
        a, h = _real(q[0], ins[0]), node.attrs["half"]
        qt, qs = node.attrs["tanh_quant"], node.attrs["sigmoid_quant"]
        tq = _quantize(qt, out.dtype, np.tanh(a[node.attrs["tanh_at"]:][:h]))
        sq = _quantize(qs, out.dtype, sigmoid(a[node.attrs["sigmoid_at"]:][:h]))
        real = _real(qt, tq) * _real(qs, sq)
    else:
        return None
    return _quantize(out.quant, out.dtype, real)


def per_op_steps(golden: GoldenModel, x: np.ndarray, mel: np.ndarray) -> dict[str, np.ndarray]:
    """|golden - QDQ specification| in output steps, per sample-rate integer node."""
    env: dict[str, np.ndarray] = {}
    golden.teacher_forced(x, mel, trace=env)
    out = {}
    for node in golden.programs.sample:
        if node.op in ("slice", "upsample", "embed", "quantize") or node.outputs[0] not in env:
            continue
        ref = op_reference(golden.graph, node, env)
        if ref is not None:
            out[node.name] = np.abs(env[node.outputs[0]] - ref)
    return out

"""Integer preparation (TFLM's Prepare, at compile time): every scale becomes a multiplier and a
shift, every nonlinearity a table, every input zero point folded into a bias.

Runs on graphs whose tensors are quantized (from QDQ ONNX). Each node gets ``attrs["q"]``, its
typed parameters (wncc/arith/params.py) that the golden model and the C kernels use as they are.
A node whose output is not quantized in an integer graph cannot be computed in integers: that is
an error naming the node, never a float fallback.
"""

from __future__ import annotations

import numpy as np

from wncc.errors import WnccError
from wncc.arith.params import (Act16Q, ActQ, AddQ, ConvQ, EmbedQ, GateQ, MulQ, QParams, QuantizeQ,
                               RescaleQ)
from wncc.arith.qmath import quantize_multiplier
from wncc.arith.tables import ACT16_DOMAIN_BITS, ACT16_RANGE, lut8
from wncc.ir import ACT_DTYPES, VIEW_OPS, Graph, Node, QuantParams, is_integer

ADD_LEFT_SHIFT = {"i8": 20, "i16": 15}


def _multipliers(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pairs = [quantize_multiplier(float(v)) for v in np.atleast_1d(m)]
    return (np.array([p[0] for p in pairs], np.int64), np.array([p[1] for p in pairs], np.int64))


def _one(m: float) -> tuple[int, int]:
    return quantize_multiplier(m)


def _act(fn: str, qin: QuantParams, qout: QuantParams, dtype: str) -> ActQ:
    if dtype == "i8":
        return ActQ(fn, lut=lut8(fn, qin.scale, qin.zero_point, qout.scale, qout.zero_point,
                                 *ACT_DTYPES[dtype]))
    im, ish = _one(qin.scale * (1 << ACT16_DOMAIN_BITS) / ACT16_RANGE[fn])
    om, osh = _one(1.0 / (32767.0 * qout.scale))
    return ActQ(fn, act16=Act16Q(im, ish, qin.zero_point, om, osh, qout.zero_point))


def _conv(node: Node, qin: QuantParams, qout: QuantParams, channel_axis: int) -> ConvQ:
    w = node.weights
    if "wq" not in w:
        raise WnccError("integer input but float weights: the weights need a DequantizeLinear "
                        "from integers", node=node.name)
    wq = w["wq"]
    real_bias_scale = qin.scale * w["w_scale"]
    if "bq" in w:
        rel = np.abs(w["b_scale"] - real_bias_scale) / real_bias_scale
        if np.any(rel > 1e-4):
            raise WnccError("bias scale is not input scale x weight scale", node=node.name)
        bias = w["bq"].astype(np.int64)
    else:
        bias = np.rint(w["b"].astype(np.float64) / real_bias_scale).astype(np.int64)
    sum_axes = tuple(a for a in range(wq.ndim) if a != channel_axis)
    folded = bias - qin.zero_point * wq.sum(axis=sum_axes)
    mult, shift = _multipliers(qin.scale * w["w_scale"] / qout.scale)
    return ConvQ(wq, folded, mult, shift, qin.zero_point, qout.zero_point, int(w["w_bits"]))


def _add(qa: QuantParams, qb: QuantParams, qout: QuantParams, dtype: str) -> AddQ:
    left = ADD_LEFT_SHIFT[dtype]
    twice_max = 2.0 * max(qa.scale, qb.scale)
    am, ash = _one(qa.scale / twice_max)
    bm, bsh = _one(qb.scale / twice_max)
    om, osh = _one(twice_max / ((1 << left) * qout.scale))
    return AddQ(left, am, ash, bm, bsh, om, osh, qa.zero_point, qb.zero_point, qout.zero_point)


def _mul(qa: QuantParams, qb: QuantParams, qout: QuantParams, c: int = 1) -> MulQ:
    m, sh = _one(qa.scale * qb.scale / qout.scale)
    return MulQ(m, sh, qa.zero_point, qb.zero_point, qout.zero_point, c)


def _params(graph: Graph, node: Node) -> QParams:
    """The integer parameters of a node whose tensors are quantized (checked by the caller)."""
    out = graph.tensors[node.outputs[0]]
    ins = [graph.tensors[t] for t in node.inputs]
    qo, op = out.quant, node.op
    if op == "embed":
        w = node.weights
        if "tq" not in w:
            raise WnccError("integer graph with a float embedding table", node=node.name)
        real = (w["tq"] - w["t_zp"]).astype(np.float32) * np.float32(w["t_scale"])
        lo, hi = ACT_DTYPES[out.dtype]
        table = np.clip(np.rint(real / np.float32(qo.scale)) + qo.zero_point, lo, hi)
        return EmbedQ(table.astype(np.int64))
    if op in ("conv", "conv_ring", "convt"):
        return _conv(node, ins[0].quant, qo, channel_axis=1 if op == "convt" else 0)
    if op == "add":
        return _add(ins[0].quant, ins[1].quant, qo, out.dtype)
    if op == "mul":
        return _mul(ins[0].quant, ins[1].quant, qo)
    if op == "scale":
        c_int = node.attrs.get("c_int")
        c_scale = node.attrs.get("c_scale")
        if c_int is None:
            value = node.attrs["value"]
            c_int, c_scale = (1 if value >= 0 else -1), abs(value)
        return _mul(ins[0].quant, QuantParams(c_scale, 0), qo, int(c_int))
    if op in ("tanh", "sigmoid"):
        return _act(op, ins[0].quant, qo, out.dtype)
    if op == "gate":
        qt, qs = node.attrs["tanh_quant"], node.attrs["sigmoid_quant"]
        return GateQ(_act("tanh", ins[0].quant, qt, out.dtype),
                     _act("sigmoid", ins[0].quant, qs, out.dtype), _mul(qt, qs, qo))
    if op in ("relu", "requantize"):
        m, sh = _one(ins[0].quant.scale / qo.scale)
        return RescaleQ(m, sh, ins[0].quant.zero_point, qo.zero_point)
    raise WnccError(f"{op} has no integer implementation", node=node.name)


def prepare_node(graph: Graph, node: Node) -> None:
    out = graph.tensors[node.outputs[0]]
    ins = [graph.tensors[t] for t in node.inputs]
    if node.op in VIEW_OPS:
        return
    if node.op == "quantize":
        if out.quant is None:
            raise WnccError("quantize without parameters", node=node.name)
        node.attrs["q"] = QuantizeQ(np.float32(out.quant.scale), out.quant.zero_point)
        return
    if out.quant is None:
        raise WnccError(f"output of {node.op} is not quantized (no QuantizeLinear follows it): "
                        "it cannot be computed in integers", node=node.name)
    if node.op != "embed" and any(t.quant is None for t in ins):
        raise WnccError(f"{node.op} mixes float and integer inputs", node=node.name)
    if node.op not in ("embed", "requantize") and any(t.dtype != out.dtype for t in ins):
        raise WnccError(f"{node.op} mixes {ins[0].dtype} and {out.dtype} activations "
                        "(mixed precision needs a requantize between layers)", node=node.name)
    if out.dtype == "i16" and out.quant.zero_point != 0:
        raise WnccError("int16 activations must be symmetric (zero point 0)", node=node.name)
    node.attrs["q"] = _params(graph, node)


def prepare(graph: Graph, rounding: str = "single") -> Graph:
    if not is_integer(graph):
        return graph
    if graph.tensors[graph.output].quant is None:
        raise WnccError("integer graph with float logits: quantize the output too",
                        node=graph.producer(graph.output).name if graph.producer(graph.output) else None)
    for node in graph.nodes:
        prepare_node(graph, node)
    graph.rounding = rounding
    return graph


def precision(graph: Graph) -> str:
    """The precision name of a graph from its activation and weight types ("fp32" for a float
    graph, "mixed" for per-layer precisions)."""
    if not is_integer(graph):
        return "fp32"
    acts = {t.dtype for t in graph.tensors.values() if t.quant is not None}
    bits = {int(n.weights["w_bits"]) for n in graph.nodes if "w_bits" in n.weights}
    if acts == {"i8"}:
        return "int4" if bits == {4} else "int8" if bits <= {8} else "mixed"
    if acts == {"i16"}:
        return "int16" if bits == {16} else "int16x8" if bits <= {8} else "mixed"
    return "mixed"

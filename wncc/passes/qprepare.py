"""Integer preparation (TFLM's Prepare, at compile time): every scale becomes a multiplier and a
shift, every nonlinearity a table, every input zero point folded into a bias.

Runs on graphs whose tensors are quantized (from QDQ ONNX). Each node gets ``attrs["q"]``, a
dict of integers and integer arrays that the golden model and the C kernels use as they are.
A node whose output is not quantized in an integer graph cannot be computed in integers: that is
an error naming the node, never a float fallback.
"""

from __future__ import annotations

import numpy as np

from wncc.errors import WnccError
from wncc.arith.qmath import quantize_multiplier
from wncc.arith.tables import ACT16_DOMAIN_BITS, ACT16_RANGE, lut8
from wncc.ir import ACT_DTYPES, VIEW_OPS, Graph, Node, QuantParams, is_integer

ADD_LEFT_SHIFT = {"i8": 20, "i16": 15}


def _multipliers(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pairs = [quantize_multiplier(float(v)) for v in np.atleast_1d(m)]
    return (np.array([p[0] for p in pairs], np.int64), np.array([p[1] for p in pairs], np.int64))


def _one(m: float) -> tuple[int, int]:
    return quantize_multiplier(m)


def _lut(fn_name: str, qin: QuantParams, qout: QuantParams, dtype: str) -> np.ndarray:
    return lut8(fn_name, qin.scale, qin.zero_point, qout.scale, qout.zero_point,
                *ACT_DTYPES[dtype])


def _act16(fn_name: str, qin: QuantParams, qout: QuantParams) -> dict:
    im, ish = _one(qin.scale * (1 << ACT16_DOMAIN_BITS) / ACT16_RANGE[fn_name])
    om, osh = _one(1.0 / (32767.0 * qout.scale))
    return {"in_mult": im, "in_shift": ish, "zp_in": qin.zero_point, "out_mult": om,
            "out_shift": osh, "zp_out": qout.zero_point, "fn": fn_name}


def _conv(node: Node, qin: QuantParams, qout: QuantParams, channel_axis: int) -> dict:
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
    return {"w": wq, "bias": folded, "mult": mult, "shift": shift, "zp_out": qout.zero_point,
            "zp_in": qin.zero_point, "w_bits": int(w["w_bits"])}


def _add(qa: QuantParams, qb: QuantParams, qout: QuantParams, dtype: str) -> dict:
    left = ADD_LEFT_SHIFT[dtype]
    twice_max = 2.0 * max(qa.scale, qb.scale)
    am, ash = _one(qa.scale / twice_max)
    bm, bsh = _one(qb.scale / twice_max)
    om, osh = _one(twice_max / ((1 << left) * qout.scale))
    return {"left_shift": left, "a_mult": am, "a_shift": ash, "b_mult": bm, "b_shift": bsh,
            "out_mult": om, "out_shift": osh, "zp_a": qa.zero_point, "zp_b": qb.zero_point,
            "zp_out": qout.zero_point}


def _mul(qa: QuantParams, qb: QuantParams, qout: QuantParams) -> dict:
    m, sh = _one(qa.scale * qb.scale / qout.scale)
    return {"mult": m, "shift": sh, "zp_a": qa.zero_point, "zp_b": qb.zero_point,
            "zp_out": qout.zero_point}


def prepare_node(graph: Graph, node: Node) -> None:
    out = graph.tensors[node.outputs[0]]
    ins = [graph.tensors[t] for t in node.inputs]
    if node.op in VIEW_OPS:
        return
    if node.op == "quantize":
        if out.quant is None:
            raise WnccError("quantize without parameters", node=node.name)
        node.attrs["q"] = {"scale": np.float32(out.quant.scale), "zp": out.quant.zero_point}
        return
    if out.quant is None:
        raise WnccError(f"output of {node.op} is not quantized (no QuantizeLinear follows it): "
                        "it cannot be computed in integers", node=node.name)
    if node.op != "embed" and any(t.quant is None for t in ins):
        raise WnccError(f"{node.op} mixes float and integer inputs", node=node.name)
    if node.op not in ("embed", "requantize") and any(t.dtype != out.dtype for t in ins):
        raise WnccError(f"{node.op} mixes {ins[0].dtype} and {out.dtype} activations "
                        "(mixed precision needs a requantize between layers)", node=node.name)
    qo = out.quant
    if out.dtype == "i16" and qo.zero_point != 0:
        raise WnccError("int16 activations must be symmetric (zero point 0)", node=node.name)
    op = node.op
    if op == "embed":
        w = node.weights
        if "tq" not in w:
            raise WnccError("integer graph with a float embedding table", node=node.name)
        real = (w["tq"] - w["t_zp"]).astype(np.float32) * np.float32(w["t_scale"])
        lo, hi = ACT_DTYPES[out.dtype]
        table = np.clip(np.rint(real / np.float32(qo.scale)) + qo.zero_point, lo, hi)
        node.attrs["q"] = {"table": table.astype(np.int64)}
    elif op in ("conv", "conv_ring"):
        node.attrs["q"] = _conv(node, ins[0].quant, qo, channel_axis=0)
    elif op == "convt":
        node.attrs["q"] = _conv(node, ins[0].quant, qo, channel_axis=1)
    elif op == "add":
        node.attrs["q"] = _add(ins[0].quant, ins[1].quant, qo, out.dtype)
    elif op == "mul":
        node.attrs["q"] = _mul(ins[0].quant, ins[1].quant, qo)
    elif op == "scale":
        c_int = node.attrs.get("c_int")
        c_scale = node.attrs.get("c_scale")
        if c_int is None:
            value = node.attrs["value"]
            c_int, c_scale = (1 if value >= 0 else -1), abs(value)
        node.attrs["q"] = {**_mul(ins[0].quant, QuantParams(c_scale, 0), qo), "c": int(c_int)}
    elif op in ("tanh", "sigmoid") and out.dtype == "i16":
        node.attrs["q"] = {"act16": _act16(op, ins[0].quant, qo)}
    elif op in ("tanh", "sigmoid"):
        node.attrs["q"] = {"lut": _lut(op, ins[0].quant, qo, out.dtype)}
    elif op == "gate":
        qt, qs = node.attrs["tanh_quant"], node.attrs["sigmoid_quant"]
        if out.dtype == "i16":
            node.attrs["q"] = {"act16_t": _act16("tanh", ins[0].quant, qt),
                               "act16_s": _act16("sigmoid", ins[0].quant, qs),
                               "zp_t": qt.zero_point, "zp_s": qs.zero_point, **_mul(qt, qs, qo)}
        else:
            node.attrs["q"] = {"lut_t": _lut("tanh", ins[0].quant, qt, out.dtype),
                               "lut_s": _lut("sigmoid", ins[0].quant, qs, out.dtype),
                               "zp_t": qt.zero_point, "zp_s": qs.zero_point,
                               **_mul(qt, qs, qo)}
    elif op in ("relu", "requantize"):
        m, sh = _one(ins[0].quant.scale / qo.scale)
        node.attrs["q"] = {"mult": m, "shift": sh, "zp_in": ins[0].quant.zero_point,
                           "zp_out": qo.zero_point}
    else:
        raise WnccError(f"{op} has no integer implementation", node=node.name)


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

"""Integer preparation (TFLM's Prepare, at compile time): every scale becomes a multiplier and a
shift, every nonlinearity a table, every input zero point folded into a bias.

Runs on graphs whose tensors are quantized (from QDQ ONNX). Each node gets ``attrs["q"]``, its
typed parameters (wncc/arith/params.py), computed by its op module (wncc/ops/), that the golden
model and the C kernels use as they are.
A node whose output is not quantized in an integer graph cannot be computed in integers: that is
an error naming the node, never a float fallback.
"""

from __future__ import annotations

from wncc import ops
from wncc.errors import WnccError
from wncc.ir import CLASS_OPS, VIEW_OPS, Graph, Node, is_integer


def prepare_node(graph: Graph, node: Node) -> None:
    out = graph.tensors[node.outputs[0]]
    ins = [graph.tensors[t] for t in node.inputs]
    if node.op in VIEW_OPS:
        return
    if node.op == "quantize":
        node.attrs["q"] = ops.of(node).params(graph, node)
        return
    if out.quant is None:
        raise WnccError(f"output of {node.op} is not quantized (no QuantizeLinear follows it): "
                        "it cannot be computed in integers", node=node.name)
    if node.op not in CLASS_OPS and any(t.quant is None for t in ins):
        raise WnccError(f"{node.op} mixes float and integer inputs", node=node.name)
    if node.op not in CLASS_OPS | {"requantize"} and any(t.dtype != out.dtype for t in ins):
        raise WnccError(f"{node.op} mixes {ins[0].dtype} and {out.dtype} activations "
                        "(mixed precision needs a requantize between layers)", node=node.name)
    if ops.of(node).copies:
        if out.quant != ins[0].quant:
            raise WnccError(f"{node.op} changes the quantization of the values it moves",
                            node=node.name)
        return
    if out.dtype == "i16" and out.quant.zero_point != 0:
        raise WnccError("int16 activations must be symmetric (zero point 0)", node=node.name)
    node.attrs["q"] = ops.of(node).params(graph, node)


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

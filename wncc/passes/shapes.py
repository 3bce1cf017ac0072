"""Shape and rate inference: channels and rate of every tensor, from its producer's inputs and weights.

A rate is the time axis of a shape: FRAME tensors change once per mel frame, TABLE tensors hold one
row per sample phase of a frame, SAMPLE tensors change every sample. An elementwise op runs at the
fastest rate of its inputs; reading a TABLE row happens per sample, so TABLE inputs give SAMPLE.
"""

from __future__ import annotations

from wncc.errors import WnccError
from wncc.ir import Graph, Node, Rate, Tensor

_UNARY = {"add_const", "scale", "tanh", "sigmoid", "relu"}


def _consumer_rate(*rates: Rate) -> Rate:
    return Rate.FRAME if all(r == Rate.FRAME for r in rates) else Rate.SAMPLE


def _out(node: Node, channels: int, rate: Rate, like: Tensor | None = None) -> list[Tensor]:
    """Output tensors; views (``like``) keep their source's dtype and quantization."""
    if channels <= 0:
        raise WnccError(f"{node.op} produces {channels} channels", node=node.name)
    if like is not None:
        return [Tensor(name, channels, rate, like.dtype, like.quant) for name in node.outputs]
    return [Tensor(name, channels, rate) for name in node.outputs]


def infer_node(graph: Graph, node: Node) -> list[Tensor]:
    """Tensors produced by ``node``; raises WnccError naming the node on a mismatch."""
    ins = [graph.tensors[name] for name in node.inputs]
    op = node.op
    if op == "embed":
        return _out(node, node.weights["table"].shape[1], Rate.SAMPLE)
    if op == "onehot":
        return _out(node, node.attrs["depth"], Rate.SAMPLE)
    if op in ("conv", "conv_ring"):
        w = node.weights["w"]
        if w.shape[1] != ins[0].channels:
            raise WnccError(f"conv weight expects {w.shape[1]} input channels, input has "
                            f"{ins[0].channels}", node=node.name)
        if w.shape[2] > 1 and ins[0].rate != Rate.SAMPLE:
            raise WnccError("convolution with kernel > 1 over mel frames is not supported "
                            "(only over samples)", node=node.name)
        return _out(node, w.shape[0], _consumer_rate(ins[0].rate))
    if op == "upsample":
        if ins[0].rate != Rate.FRAME:
            raise WnccError("upsampling input must be at the mel frame rate", node=node.name)
        return _out(node, ins[0].channels, Rate.FRAME, like=ins[0])
    if op == "convt":
        w = node.weights["w"]
        if ins[0].rate != Rate.FRAME:
            raise WnccError("transposed-conv upsampling input must be at the mel frame rate",
                            node=node.name)
        if w.shape[0] != ins[0].channels:
            raise WnccError(f"transposed conv expects {w.shape[0]} input channels, input has "
                            f"{ins[0].channels}", node=node.name)
        return _out(node, w.shape[1], Rate.TABLE)
    if op in ("add", "mul"):
        if ins[0].channels != ins[1].channels:
            raise WnccError(f"{op} of {ins[0].channels} and {ins[1].channels} channels",
                            node=node.name)
        return _out(node, ins[0].channels, _consumer_rate(ins[0].rate, ins[1].rate))
    if op in ("quantize", "requantize"):
        return _out(node, ins[0].channels, _consumer_rate(ins[0].rate))
    if op in _UNARY:
        if op == "add_const" and node.weights["b"].shape != (ins[0].channels,):
            raise WnccError(f"constant of shape {node.weights['b'].shape} added to "
                            f"{ins[0].channels} channels", node=node.name)
        return _out(node, ins[0].channels, _consumer_rate(ins[0].rate))
    if op == "slice":
        start, stop = node.attrs["start"], node.attrs["stop"]
        if not 0 <= start < stop <= ins[0].channels:
            raise WnccError(f"channel slice [{start}:{stop}] of {ins[0].channels} channels",
                            node=node.name)
        if ins[0].rate == Rate.TABLE:
            raise WnccError("slicing an upsampled conditioning table is not supported",
                            node=node.name)
        return _out(node, stop - start, ins[0].rate, like=ins[0])
    if op == "gate":
        half = node.attrs["half"]
        for at in (node.attrs["tanh_at"], node.attrs["sigmoid_at"]):
            if at < 0 or at + half > ins[0].channels:
                raise WnccError("gate halves exceed the input channels", node=node.name)
        return _out(node, half, _consumer_rate(ins[0].rate))
    raise WnccError(f"no shape rule for op '{op}'", node=node.name)


def infer(graph: Graph) -> Graph:
    """Re-derive every produced tensor and check it against the graph (after a pass); dtype and
    quantization assigned by the frontend are kept."""
    for node in graph.nodes:
        for t in infer_node(graph, node):
            old = graph.tensors.get(t.name)
            if old is not None and old.quant is not None:
                t.dtype, t.quant = old.dtype, old.quant
            graph.tensors[t.name] = t
    return graph

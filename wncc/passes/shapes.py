"""Shape and rate inference: channels and rate of every tensor, from its producer's inputs and weights.

A rate is the time axis of a shape: FRAME tensors change once per mel frame, TABLE tensors hold one
row per sample phase of a frame, SAMPLE tensors change every sample. An elementwise op runs at the
fastest rate of its inputs; reading a TABLE row happens per sample, so TABLE inputs give SAMPLE.
"""

from __future__ import annotations

from wncc.errors import WnccError
from wncc import ops
from wncc.ir import Graph, Node, Rate, Tensor

_UNARY = {"add_const", "scale", "tanh", "sigmoid", "relu"}


def _rate(graph: Graph, node: Node, ins: list[Tensor]) -> tuple[Rate, int]:
    """(rate, rows per frame) of a node's output. Conditioning tables at the hop are read per
    sample by pointwise consumers; every other conditioning tensor stays in the frame program
    at its own rate."""
    if any(t.rate == Rate.SAMPLE for t in ins):
        return Rate.SAMPLE, 1
    op = ops.of(node)
    rows = {t.rows for t in ins}
    if len(rows) > 1:
        raise WnccError(f"{node.op} of conditioning tensors at {sorted(rows)} steps per frame",
                        node=node.name)
    (rows_in,) = rows
    if node.op == "upsample" and rows_in == 1 and node.attrs["factor"] == graph.hop:
        return Rate.FRAME, 1  # nearest repeat to the samples: a view of the frame
    if not op.mixes_time(node) and any(t.rate == Rate.TABLE for t in ins) and rows_in == graph.hop:
        return Rate.SAMPLE, 1
    rows_out = op.rows(node, rows_in)
    return (Rate.FRAME if rows_out == 1 and node.op != "upsample" else Rate.TABLE), rows_out


def _out(node: Node, channels: int, rate: Rate | tuple[Rate, int],
         like: Tensor | None = None) -> list[Tensor]:
    """Output tensors; views (``like``) keep their source's dtype and quantization."""
    if channels <= 0:
        raise WnccError(f"{node.op} produces {channels} channels", node=node.name)
    rate, rows = rate if isinstance(rate, tuple) else (rate, 1)
    if like is not None:
        return [Tensor(name, channels, rate, like.dtype, like.quant, rows)
                for name in node.outputs]
    return [Tensor(name, channels, rate, rows=rows) for name in node.outputs]


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
        return _out(node, w.shape[0], _rate(graph, node, ins))
    if op in ("upsample", "repeat", "crop", "dwconv", "dwconvt", "convt"):
        if ins[0].rate == Rate.SAMPLE:
            raise WnccError(f"{op} of the sample path: only the conditioning (mel) path is "
                            "upsampled", node=node.name)
        channels = ins[0].channels
        if op == "convt":
            w = node.weights["w"]
            if w.shape[0] != channels:
                raise WnccError(f"transposed conv expects {w.shape[0]} input channels, input "
                                f"has {channels}", node=node.name)
            channels = w.shape[1]
        elif op in ("dwconv", "dwconvt") and node.weights["w"].shape[0] != channels:
            raise WnccError(f"depthwise weight for {node.weights['w'].shape[0]} channels, input "
                            f"has {channels}", node=node.name)
        like = ins[0] if op == "upsample" else None
        return _out(node, channels, _rate(graph, node, ins), like=like)
    if op in ("add", "mul"):
        if ins[0].channels != ins[1].channels:
            raise WnccError(f"{op} of {ins[0].channels} and {ins[1].channels} channels",
                            node=node.name)
        return _out(node, ins[0].channels, _rate(graph, node, ins))
    if op in ("quantize", "requantize"):
        return _out(node, ins[0].channels, _rate(graph, node, ins))
    if op in _UNARY:
        if op == "add_const" and node.weights["b"].shape != (ins[0].channels,):
            raise WnccError(f"constant of shape {node.weights['b'].shape} added to "
                            f"{ins[0].channels} channels", node=node.name)
        return _out(node, ins[0].channels, _rate(graph, node, ins))
    if op == "slice":
        start, stop = node.attrs["start"], node.attrs["stop"]
        if not 0 <= start < stop <= ins[0].channels:
            raise WnccError(f"channel slice [{start}:{stop}] of {ins[0].channels} channels",
                            node=node.name)
        return _out(node, stop - start, (ins[0].rate, ins[0].rows), like=ins[0])
    if op == "gate":
        half = node.attrs["half"]
        for at in (node.attrs["tanh_at"], node.attrs["sigmoid_at"]):
            if at < 0 or at + half > ins[0].channels:
                raise WnccError("gate halves exceed the input channels", node=node.name)
        return _out(node, half, _rate(graph, node, ins))
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

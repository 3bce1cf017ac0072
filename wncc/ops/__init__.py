"""The IR's ops, one module each: integer preparation, golden evaluation, the emitted call, the
kernel sources, the weight tables and the one-step ONNX nodes of an op live together (see
base.py; the ONNX builder is step.py). Importing this package registers every op; ``of(node)``
returns a node's op."""

from wncc.ops import (activation, add, add_const, conv, convt, depthwise, embed, gate, mul,
                      onehot, quantize, rescale, rows, scale, view)
from wncc.ops.base import REGISTRY, Op, of

__all__ = ["REGISTRY", "Op", "of", "activation", "add", "add_const", "conv", "convt",
           "depthwise", "embed", "gate", "mul", "onehot", "quantize", "rescale", "rows", "scale",
           "view"]

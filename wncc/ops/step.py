"""The builder the ops write the one-step ONNX graph with (wncc/stepgraph.py assembles it): nodes,
constants, inputs and outputs, every name made from a counter, never from the model."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from wncc.ir import Node


class StepBuilder:
    """The ONNX graph being written: nodes, constants, inputs and outputs, named by counters."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.constants: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self.count = 0

    def fresh(self, what: str) -> str:
        self.count += 1
        return f"{what}{self.count}"

    def const(self, value: np.ndarray) -> str:
        name = self.fresh("c")
        self.constants.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op_type: str, inputs: list[str], **attrs: object) -> str:
        out = self.fresh("t")
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=self.fresh("n"), **attrs))
        return out

    def input(self, name: str, elem: int, shape: list[int]) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, elem, shape))
        return name

    def output(self, name: str, value: str, shape: list[int]) -> None:
        self.nodes.append(helper.make_node("Identity", [value], [name], name=self.fresh("n")))
        self.outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))

    def channel_vector(self, values: np.ndarray) -> str:
        """A per-channel constant shaped [1, C, 1]."""
        return self.const(np.asarray(values, np.float32).reshape(1, -1, 1))

    def channels(self, value: str, start: int, stop: int) -> str:
        """Channels [start, stop) of a [1, C, 1] value."""
        return self.node("Slice", [value, self.const(np.array([start], np.int64)),
                                   self.const(np.array([stop], np.int64)),
                                   self.const(np.array([1], np.int64))])

    def ring(self, node: Node, x: str, channels: int) -> str:
        """A dilated convolution's window: its state (the last (K - 1) * d inputs) followed by
        this sample's input, [1, Cin, (K - 1) * d + 1]; the next state drops the oldest."""
        index = node.attrs["ring"]
        history = node.attrs["ring_len"] - 1
        state = self.input(f"state{index}", TensorProto.FLOAT, [1, channels, history])
        window = self.node("Concat", [state, x], axis=2)
        rest = self.node("Slice", [window, self.const(np.array([1], np.int64)),
                                   self.const(np.array([history + 1], np.int64)),
                                   self.const(np.array([2], np.int64))])
        self.output(f"state{index}_out", rest, [1, channels, history])
        return window

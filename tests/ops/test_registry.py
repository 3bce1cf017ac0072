"""The op registry: every IR op has exactly one module, and each module answers for its op."""

from __future__ import annotations

import numpy as np
import pytest

from wncc import ops
from wncc.errors import WnccError
from wncc.ir import Graph, Node, QuantParams, Rate, Tensor
from wncc.ops.base import Eval, register

IR_OPS = {"embed", "conv", "conv_ring", "upsample", "convt", "add", "mul", "add_const", "scale",
          "tanh", "sigmoid", "relu", "slice", "gate", "quantize", "requantize", "repeat", "crop",
          "dwconv", "dwconvt", "onehot"}


def test_every_ir_op_is_registered_once():
    assert set(ops.REGISTRY) == IR_OPS
    modules = {type(op).__module__ for op in ops.REGISTRY.values()}
    assert all(m.startswith("wncc.ops.") for m in modules)


def test_the_lowered_examples_use_registered_ops(models):
    from wncc.pipeline import load
    for name in ("tiny", "tiny-transpose"):
        assert {n.op for n in load(models[name]).nodes} <= set(ops.REGISTRY)


def test_a_name_registered_twice_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        @register
        class Again(ops.Op):
            names = ("add",)


def test_an_op_without_integer_form_is_a_one_line_error():
    t = Tensor("x", 2, Rate.SAMPLE, "i8", QuantParams(0.1, 0))
    graph = Graph([], {"x": t, "y": Tensor("y", 2, Rate.SAMPLE, "i8", QuantParams(0.1, 0))},
                  "c", "m", "y", 200)
    node = Node("add_const", "bias", ["x"], ["y"], weights={"b": np.zeros(2, np.float32)})
    with pytest.raises(WnccError, match="node 'bias': add_const has no integer implementation"):
        ops.of(node).params(graph, node)


def test_golden_of_a_view_is_its_slice():
    node = Node("slice", "s", ["x"], ["y"], {"start": 1, "stop": 3})
    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    np.testing.assert_array_equal(ops.of(node).golden(node, [x], Eval(False, "f32", "single")),
                                  x[1:3])

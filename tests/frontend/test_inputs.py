"""The samples input: roles, kinds, one-hot constructions and the output distribution they
allow (wncc/frontend/inputs.py, passes/onehot.py, passes/head.py); one clear error for what is
not supported."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from wncc.errors import WnccError
from wncc.frontend.onnx import import_model
from wncc.ir import Head
from wncc.pipeline import Ends, load


def _two_float_inputs(path):
    a, b = (helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, [1, 4, "T"]) for n in "ab")
    out = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4, "T"])
    graph = helper.make_graph([helper.make_node("Add", ["a", "b"], ["y"])], "g", [a, b], [out])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    return path


def test_roles_that_the_graph_does_not_tell_need_inputs(tmp_path):
    path = _two_float_inputs(tmp_path / "two.onnx")
    with pytest.raises(WnccError, match=r"cannot tell the samples input from the mel input "
                                        r"among a, b; pass --inputs samples=NAME,mel=NAME"):
        import_model(path)
    with pytest.raises(WnccError, match="--inputs must name both inputs"):
        import_model(path, {"samples": "a", "mel": "c"})


def test_roles_from_the_upsampling_and_from_inputs(ends_model):
    """A float one-hot input and a mel input, named so that names cannot tell: the mel is the one
    that reaches the upsampling; --inputs says the same explicitly."""
    model = ends_model("onehot", dynamo=False, static_frames=3, names=("c", "feats"))
    inferred = import_model(model)
    assert inferred.onnx_inputs == {"samples": "c", "mel": "feats"}
    assert inferred.input_kind == "onehot" and inferred.input_classes == 256
    given = import_model(model, {"samples": "c", "mel": "feats"})
    assert [n.op for n in given.nodes] == [n.op for n in inferred.nodes]


@pytest.mark.parametrize("input, dynamo", [("onehot_op", False), ("onehot_equal", True),
                                           ("onehot_scatter", True), ("onehot_scatter", False)])
def test_one_hot_constructions_import_as_onehot_then_embed(ends_model, input, dynamo):
    model = ends_model(input, dynamo=dynamo)
    imported = import_model(model)
    assert imported.input_kind == "onehot" and len(imported.ops("onehot")) == 1
    assert imported.ops("onehot")[0].attrs["depth"] == 256
    lowered = load(model)  # the 1x1 conv of the one-hot became an embedding, the one-hot went
    assert not lowered.ops("onehot") and lowered.consumers(lowered.class_input)[0].op == "embed"


def test_equal_against_something_else_than_arange_is_refused(ends_model, tmp_path):
    m = onnx.load(str(ends_model("onehot_equal")))
    init = next(i for i in m.graph.initializer if i.name == "arange")
    arange = numpy_helper.to_array(init)
    init.CopyFrom(numpy_helper.from_array(arange.reshape(-1)[::-1].reshape(arange.shape).copy(),
                                          init.name))
    onnx.save(m, str(tmp_path / "eq.onnx"))
    with pytest.raises(WnccError, match="not arange"):
        import_model(tmp_path / "eq.onnx")


def test_distribution_detected_and_checked(ends_model):
    assert load(ends_model("scalar", "mol")).head.kind == "mol"
    assert load(ends_model("scalar", "gaussian")).head.kind == "gaussian"
    assert load(ends_model("scalar", classes=64)).head.kind == "categorical"
    with pytest.raises(WnccError, match="Gaussian head needs 2 output channels"):
        load(ends_model("scalar", "mol"), ends=Ends(output="gaussian"))
    with pytest.raises(WnccError, match="mol head draws a value, but the samples input takes a "
                                        "class"):
        load(ends_model("onehot"), ends=Ends(output="mol"))
    with pytest.raises(WnccError, match="deemphasis"):
        load(ends_model("scalar", "mol"), ends=Ends(head=Head(deemphasis=1.5)))


def test_scalar_input_is_a_float_channel_at_sample_rate(ends_model):
    graph = import_model(ends_model("scalar", "gaussian"))
    x = graph.tensors[graph.class_input]
    assert graph.input_kind == "scalar" and x.channels == 1 and x.dtype == "f32"
    assert np.isclose(graph.head.log_scale_min, -7.0)

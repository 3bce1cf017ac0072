"""Frontend: both exporters import to the same IR; bad graphs are refused naming the node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from wncc.errors import WnccError
from wncc.frontend.onnx import import_model


def _ops(graph) -> list[str]:
    return [n.op for n in graph.nodes]


def test_dynamo_and_legacy_import_to_same_ir(models):
    a, b = import_model(models["tiny"]), import_model(models["tiny-legacy"])
    assert _ops(a) == _ops(b)
    assert a.hop == b.hop == 200 and a.n_mels == b.n_mels == 80 and a.classes == b.classes == 256
    for na, nb in zip(a.nodes, b.nodes):
        assert na.attrs == {k: v for k, v in nb.attrs.items()} or na.op in ("scale",)
        for key in na.weights:
            np.testing.assert_array_equal(na.weights[key], nb.weights[key])


def test_legacy_pads_fold_into_causal_conv(models):
    g = import_model(models["tiny-legacy"])
    convs = [n for n in g.nodes if n.op == "conv" and n.attrs["kernel"] == 2]
    assert [c.attrs["dilation"] for c in convs] == [1, 2, 4, 8]
    assert all(c.attrs["pad_left"] == c.attrs["dilation"] and c.attrs["pad_right"] == 0
               for c in convs)


def test_transpose_upsampling_imports_as_convt(models):
    g = import_model(models["tiny-transpose"])
    (convt,) = g.ops("convt")
    assert convt.attrs["factor"] == 200 and convt.weights["w"].shape == (80, 80, 200)


def _edit(src: Path, dst: Path, fn) -> Path:
    m = onnx.load(str(src))
    fn(m)
    onnx.save(m, str(dst))
    return dst


def _first(m: onnx.ModelProto, op: str, pred=lambda n: True) -> onnx.NodeProto:
    return next(n for n in m.graph.node if n.op_type == op and pred(n))


def _set_attr(node: onnx.NodeProto, name: str, value) -> None:
    for a in list(node.attribute):
        if a.name == name:
            node.attribute.remove(a)
    node.attribute.append(helper.make_attribute(name, value))


def _kernel2(n: onnx.NodeProto) -> bool:
    return any(a.name == "kernel_shape" and list(a.ints) == [2] for a in n.attribute)


@pytest.mark.parametrize("case, message", [
    ("missing", "file not found"),
    ("truncated", "not a valid ONNX model"),
    ("garbage", "not a valid ONNX model"),
    ("unsupported_op", "unsupported op 'Erf'"),
    ("symmetric_pad", "non-causal convolution"),
    ("right_pad_legacy", "non-causal convolution"),
    ("strided", "strided convolution"),
    ("grouped", "grouped convolution"),
    ("opset", "opset 13 is not supported"),
])
def test_bad_input_is_one_clear_error(models, tmp_path, case, message):
    tiny = models["tiny"]
    path = tmp_path / f"{case}.onnx"
    if case == "truncated":
        data = tiny.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif case == "garbage":
        path.write_bytes(b"\x08\x07not an onnx file at all" * 10)
    elif case == "unsupported_op":
        _edit(tiny, path, lambda m: setattr(_first(m, "Tanh"), "op_type", "Erf"))
    elif case == "symmetric_pad":
        _edit(tiny, path, lambda m: _set_attr(_first(m, "Conv", _kernel2), "pads", [1, 1]))
    elif case == "right_pad_legacy":
        def right(m):
            pad = _first(m, "Pad")
            m.graph.initializer.append(onnx.numpy_helper.from_array(
                np.array([0, 0, 0, 0, 0, 1], np.int64), "right_pads"))
            pad.input[1] = "right_pads"
        _edit(models["tiny-legacy"], path, right)
    elif case == "strided":
        _edit(tiny, path, lambda m: _set_attr(_first(m, "Conv", _kernel2), "strides", [2]))
    elif case == "grouped":
        _edit(tiny, path, lambda m: _set_attr(_first(m, "Conv", _kernel2), "group", 2))
    elif case == "opset":
        def old(m):
            m.opset_import[0].version = 13
        _edit(tiny, path, old)
    with pytest.raises(WnccError) as info:
        from wncc.passes.pipeline import load
        load(path)
    text = str(info.value)
    assert message in text and "\n" not in text
    if case in ("unsupported_op", "symmetric_pad", "strided", "grouped", "right_pad_legacy"):
        assert info.value.node, "the error names the node"


def test_shape_mismatch_names_node(models, tmp_path):
    def shrink(m):
        init = next(i for i in m.graph.initializer if i.name.endswith("layers.1.res.weight"))
        arr = onnx.numpy_helper.to_array(init)[:8]
        init.CopyFrom(onnx.numpy_helper.from_array(arr, init.name))
    path = _edit(models["tiny"], tmp_path / "shape.onnx", shrink)
    with pytest.raises(WnccError, match="channels"):
        import_model(path)

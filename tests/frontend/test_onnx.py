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
        from wncc.pipeline import load
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


def test_external_data_file(models, tmp_path):
    m = onnx.load(str(models["tiny"]))
    path = tmp_path / "ext.onnx"
    onnx.save(m, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location="ext.onnx.data", size_threshold=0)
    assert (tmp_path / "ext.onnx.data").stat().st_size > 100000
    assert path.stat().st_size < models["tiny"].stat().st_size / 2
    a, b = import_model(models["tiny"]), import_model(path)
    for na, nb in zip(a.nodes, b.nodes):
        for key in na.weights:
            np.testing.assert_array_equal(na.weights[key], nb.weights[key])
    (tmp_path / "ext.onnx.data").unlink()
    with pytest.raises(WnccError, match="not a valid ONNX model"):
        import_model(path)


@pytest.mark.parametrize("opset", [17, 19, 21, 23])
def test_opsets(models, tmp_path, opset, wavenet):
    from onnx import version_converter
    path = tmp_path / f"o{opset}.onnx"
    if opset == 17:  # exported directly: no ONNX version adapter goes down to 17 for Pad
        wavenet.export(wavenet.build("tiny", seed=1), path, dynamo=False, opset=17)
    else:
        onnx.save(version_converter.convert_version(onnx.load(str(models["tiny-legacy"])), opset),
                  str(path))
    assert onnx.load(str(path)).opset_import[0].version == opset
    from wncc.golden.model import GoldenModel
    from wncc.pipeline import load
    rng = np.random.default_rng(0)
    x, mel = rng.integers(0, 256, 400), rng.standard_normal((2, 80)).astype(np.float32)
    np.testing.assert_array_equal(GoldenModel(load(path)).teacher_forced(x, mel),
                                  GoldenModel(load(models["tiny-legacy"])).teacher_forced(x, mel))


def test_time_dependent_shape_is_refused(models, tmp_path):
    """A graph whose arithmetic needs the time length (Shape of a dynamic axis) is refused."""
    m = onnx.load(str(models["tiny-legacy"]))
    gather = next(n for n in m.graph.node if n.op_type == "Gather" and n.input[0].endswith("Shape_output_0"))
    idx = next(n for n in m.graph.node if gather.input[1] in n.output)
    idx.attribute[0].t.CopyFrom(onnx.numpy_helper.from_array(np.array([2], np.int64)))
    path = tmp_path / "timeshape.onnx"
    onnx.save(m, str(path))
    with pytest.raises(WnccError, match="shape arithmetic .* on the time length"):
        import_model(path)

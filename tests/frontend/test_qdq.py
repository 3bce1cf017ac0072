"""QDQ models with uint8 (ONNX Runtime's QUInt8) activations and weights: read as int8 at import,
verified end to end; asymmetric uint8 weights are refused naming the node."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, numpy_helper

from wncc.errors import WnccError
from wncc.frontend.onnx import import_model
from wncc.verify import verify

UINT8 = {"activation_type": "QUInt8"}


def zero_point_types(path) -> set[int]:
    m = onnx.load(str(path))
    return {i.data_type for i in m.graph.initializer if i.name.endswith("zero_point")}


def test_uint8_activations_are_int8_shifted_by_128(shipped_quantized, assert_same_integer_model):
    """ORT's uint8 zero points are its int8 ones + 128 for the same ranges, so the uint8 model
    imports to the int8 model's integer graph and computes the same logits."""
    u8, s8 = shipped_quantized("int8", **UINT8), shipped_quantized("int8")
    assert TensorProto.UINT8 in zero_point_types(u8)
    assert {t.dtype for t in import_model(u8).tensors.values()} == {"class", "f32", "i8"}
    assert_same_integer_model(u8, s8)


def test_uint8_weights_zero_point_128_become_int8(shipped_quantized):
    path = shipped_quantized("int8", activation_type="QUInt8", weight_type="QUInt8")
    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}
    graph = import_model(path)
    conv = next(n for n in graph.nodes if n.attrs.get("label") == "layers.0.conv")
    q = inits["layers.0.conv.weight_quantized"]
    assert q.dtype == np.uint8 and np.all(inits["layers.0.conv.weight_zero_point"] == 128)
    np.testing.assert_array_equal(conv.weights["wq"], q.astype(np.int64) - 128)
    assert int(conv.weights["w_bits"]) == 8


@pytest.mark.parametrize("options", [
    {**UINT8, "per_channel": False},
    UINT8,
    {**UINT8, "weight_type": "QUInt8"},
], ids=["per-tensor", "per-channel", "uint8-weights"])
def test_uint8_models_verify(shipped_quantized, options):
    report = verify(shipped_quantized("int8", **options), dtype="int8", seconds=0.5,
                    golden_samples=1000)
    assert report.passed, report.checks
    checks = {c.name: c for c in report.checks}
    assert checks["logits_vs_golden"].measure == 0
    assert checks["logits_vs_onnxruntime"].measure >= 0.99


def test_asymmetric_uint8_weights_refused(shipped_quantized, tmp_path):
    m = onnx.load(str(shipped_quantized("int8", activation_type="QUInt8", weight_type="QUInt8")))
    zp = next(i for i in m.graph.initializer if i.name == "layers.1.conv.weight_zero_point")
    zp.CopyFrom(numpy_helper.from_array(np.full(numpy_helper.to_array(zp).shape, 140, np.uint8),
                                        zp.name))
    onnx.save(m, str(tmp_path / "asym.onnx"))
    with pytest.raises(WnccError, match=r"node '\w+': weights must be quantized symmetrically "
                                        r"\(zero point 0; 128 for uint8\), found zero points 12"):
        import_model(tmp_path / "asym.onnx")

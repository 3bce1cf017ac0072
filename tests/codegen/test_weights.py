"""Weight tables: biases in the narrowest type, one requantization pair for per-tensor weight
scales, int8 shifts; a per-tensor int8 model compiles to C equal to the golden model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from wncc.codegen.weights import RQ_STRUCT_BYTES
from wncc.ops.layout import narrow_bias, shared_requant, trimmed_lut
from wncc.errors import WnccError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("values, acc_bits, dtype", [
    ([0, 0, 0], 32, None),
    ([-128, 127, 5], 32, np.int8),
    ([-129, 0], 32, np.int16),
    ([32767, -32768], 32, np.int16),
    ([32768], 32, np.int32),
    ([-(1 << 31)], 32, np.int32),
    ([1 << 31], 64, np.int64),
    ([3, -(1 << 40)], 64, np.int64),
])
def test_narrow_bias(values, acc_bits, dtype):
    b = narrow_bias(np.array(values), acc_bits)
    if dtype is None:
        assert b.size == 0
    else:
        assert b.dtype == dtype and b.astype(np.int64).tolist() == values


def test_shared_requant():
    m, s = shared_requant(np.array([1 << 30] * 4), np.array([-7] * 4))
    assert m.tolist() == [1 << 30] and s.tolist() == [-7] and s.dtype == np.int8
    m, s = shared_requant(np.array([1 << 30, 1 << 30]), np.array([-7, -8]))
    assert m.tolist() == [1 << 30] * 2 and s.tolist() == [-7, -8]
    with pytest.raises(WnccError, match="does not fit int8"):
        shared_requant(np.array([1 << 30]), np.array([-200]))


@pytest.mark.parametrize("lut", [
    np.clip(np.round(127 * np.tanh(np.arange(-128, 128) / 20.0)), -128, 127),  # saturated tails
    np.arange(-128, 128),  # none
    np.full(256, -3),  # constant
    np.r_[np.full(100, 5), np.arange(56), np.full(100, 60)],
])
def test_trimmed_lut_reproduces_every_entry(lut):
    values, first, last = trimmed_lut(lut)
    assert values.size == last - first + 1 and values.dtype == np.int8
    index = np.clip(np.arange(256), first, last) - first
    np.testing.assert_array_equal(values[index], lut)
    assert values.size == 1 or (values[0] != values[1] and values[-1] != values[-2])


def test_per_tensor_model_stores_one_multiplier_per_layer(tmp_path):
    from wncc.compiler import compile_model
    from wncc.golden.model import GoldenModel
    from wncc.harness import CModel
    from wncc.quant.quantize import quantize

    clip = ROOT / "examples" / "data" / "test_clip.wav"
    per_tensor = quantize(ROOT / "examples" / "models" / "tiny.onnx", "int8", clip,
                          tmp_path / "t.onnx", per_channel=False)
    graph, project = compile_model(per_tensor, tmp_path / "p", dtype="int8")
    layers = json.loads((project / "report.json").read_text())["layers"]
    convs = [layer for layer in layers if layer["op"] in ("conv", "conv_ring", "convt")]
    assert convs and all(layer["scale_bytes"] == 4 + 1 for layer in convs)
    assert all(layer["params_bytes"] == RQ_STRUCT_BYTES for layer in convs)
    mel = np.load(ROOT / "examples" / "data" / "test_clip_mel.npy")[:4]
    x = np.random.default_rng(2).integers(0, 256, 800)
    np.testing.assert_array_equal(CModel(project).teacher_forced(x, mel),
                                  GoldenModel(graph).teacher_forced(x, mel))

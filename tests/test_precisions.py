"""All seven precisions on the trained tiny model with real speech: the C equals the golden
model on every value and every sample; ONNX Runtime agrees within the stated tolerance."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from wncc.compiler import compile_model
from wncc.errors import WnccError
from wncc.verify import verify

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "examples" / "models" / "tiny.onnx"
CLIP = ROOT / "examples" / "data" / "test_clip.wav"


def _audio() -> np.ndarray:
    with wave.open(str(CLIP)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768.0


@pytest.fixture(scope="module")
def quantized(shipped_quantized) -> dict[str, Path]:
    out = {"fp32": TINY, "fp16": TINY, "bf16": TINY}
    return {**out, **{dtype: shipped_quantized(dtype) for dtype in ("int8", "int4", "int16x8",
                                                                  "int16")}}


@pytest.mark.parametrize("dtype", ["fp32", "fp16", "bf16", "int8", "int4", "int16x8", "int16"])
def test_precision_verifies_on_real_speech(quantized, dtype):
    report = verify(quantized[dtype], dtype=dtype, seconds=1.0, golden_samples=4000,
                    audio=_audio())
    checks = {c.name: c for c in report.checks}
    assert checks["logits_vs_golden"].passed, checks["logits_vs_golden"]
    assert checks["samples_vs_golden"].passed and checks["streaming_golden_vs_c"].passed
    ort_check = checks["logits_vs_onnxruntime"]
    if dtype == "int4":
        # 98.1-98.5% within one step here with the default double rounding (the target is 99%;
        # single rounding meets it, below): TFLite's two roundings drift from ONNX Runtime's one
        assert ort_check.measure >= 0.98, ort_check
    elif dtype in ("int16x8", "int16"):
        # ~87% here: a one-step difference at a gate input (coarse scale) becomes ~40 steps at
        # the tanh output (fine scale); the C still equals the golden model exactly. README.
        assert ort_check.measure >= 0.8, ort_check
    else:
        assert ort_check.passed, ort_check
    if dtype.startswith("int"):  # integer models are compared on all 16000 samples
        assert "of 4096000 values" in checks["logits_vs_golden"].value


@pytest.mark.parametrize("dtype", ["int8", "int4"])
def test_single_rounding_is_exact_and_agrees_with_onnxruntime(quantized, dtype):
    """One rounding of the 64-bit product is what ONNX Runtime's float-simulated QDQ does up to
    float error: the 8-bit paths then agree with it on (nearly) every logit (measured 100.00%
    for tiny int8 and int4, 99.85% / 99.87% for base int8 / int4)."""
    report = verify(quantized[dtype], dtype=dtype, rounding="single", seconds=1.0,
                    golden_samples=1000, audio=_audio())
    checks = {c.name: c for c in report.checks}
    assert report.passed, report.checks
    assert checks["logits_vs_onnxruntime"].measure >= 0.999, checks["logits_vs_onnxruntime"]


def test_storage_bytes_per_precision(quantized, tmp_path):
    sizes = {}
    for dtype in ("fp32", "fp16", "bf16", "int8", "int4", "int16x8", "int16"):
        _, project = compile_model(quantized[dtype], tmp_path / dtype, dtype=dtype)
        report = json.loads((project / "report.json").read_text())
        weights = sum(layer["weight_bytes"] for layer in report["layers"])
        sizes[dtype] = (weights, report)
        if dtype in ("fp16", "bf16"):  # really 2 bytes per weight
            assert "uint16_t" in (project / "wn_weights.h").read_text()
    fp32 = sizes["fp32"][0]
    assert sizes["fp16"][0] == sizes["bf16"][0] == fp32 // 2
    assert sizes["int8"][0] == sizes["int16x8"][0] == fp32 // 4  # conv weights: 1 byte each
    assert sizes["int16"][0] == fp32 // 2
    assert sizes["int4"][0] <= fp32 // 8 + len(sizes["fp32"][1]["layers"])  # two per byte
    ratios = {d: sizes[d][1]["compression_ratio"] for d in sizes}
    assert ratios["fp32"] == 1.0 and ratios["int4"] > ratios["int8"] > ratios["int16"] > 1.0
    assert all(sizes[d][1]["dtype"] == d for d in sizes)


def test_float_model_with_integer_dtype_needs_calibration(tmp_path):
    with pytest.raises(WnccError, match="needs a quantized model.*--calib"):
        compile_model(TINY, tmp_path / "x", dtype="int8")
    assert not (tmp_path / "x").exists()


def test_dtype_must_match_the_quantized_model(quantized, tmp_path):
    with pytest.raises(WnccError, match="is a int16x8 model, not int8"):
        compile_model(quantized["int16x8"], tmp_path / "x", dtype="int8")


def test_missing_scale_and_unsupported_quantized_op(quantized, tmp_path):
    import onnx
    m = onnx.load(str(quantized["int8"]))
    q = next(n for n in m.graph.node if n.op_type == "QuantizeLinear")
    del q.input[2]
    del q.input[1]
    onnx.save(m, str(tmp_path / "noscale.onnx"))
    with pytest.raises(WnccError) as info:
        compile_model(tmp_path / "noscale.onnx", tmp_path / "a", dtype="int8")
    assert "\n" not in str(info.value)
    m = onnx.load(str(quantized["int8"]))
    tanh = next(n for n in m.graph.node if n.op_type == "Tanh")
    tanh.op_type = "Softsign"
    onnx.save(m, str(tmp_path / "softsign.onnx"))
    with pytest.raises(WnccError, match="unsupported op 'Softsign'"):
        compile_model(tmp_path / "softsign.onnx", tmp_path / "b", dtype="int8")


def test_mixed_precision_head_in_int16x8(tmp_path):
    """int8 body, int16x8 head (--layer-dtype 'head*=int16x8'): typed regions, a requantize
    between the types, and the C still equals the golden model."""
    from wncc.quant.quantize import quantize
    model = quantize(TINY, "int8", CLIP, tmp_path / "mixed.onnx", layer_dtypes={"head*": "int16x8"})
    report = verify(model, dtype="int8", seconds=0.5, golden_samples=1000, audio=_audio())
    checks = {c.name: c for c in report.checks}
    assert checks["logits_vs_golden"].passed and checks["samples_vs_golden"].passed
    graph, project = compile_model(model, tmp_path / "p", dtype="int8")
    header = (project / "wn_model.h").read_text()
    assert "int8_t arena_s8[" in header and "int16_t arena_s16[" in header
    assert "wn_requantize_s8_s16" in (project / "wn_model.c").read_text()
    assert graph.tensors[graph.output].dtype == "i16"

"""End to end on the host: compiled C against ONNX Runtime and the golden model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wncc.compiler import compile_model
from wncc.harness import CModel
from wncc.pipeline import load
from wncc.verify import static_samples, verify

CLIP = Path(__file__).resolve().parent.parent / "examples" / "data" / "test_clip.wav"


def test_verify_tiny_passes_all_checks(models):
    report = verify(models["tiny"], seconds=2.0, golden_samples=4000)
    assert [c.name for c in report.checks] == ["logits_vs_onnxruntime", "logits_vs_golden",
                                               "samples_vs_golden", "streaming_golden_vs_c"]
    assert report.passed, report.checks


def test_verify_transposed_upsampling_greedy(models):
    report = verify(models["tiny-transpose"], seconds=0.5, golden_samples=1000, temperature=0.0)
    assert report.passed, report.checks


def test_dynamo_and_legacy_exports_give_identical_c_outputs(models, tmp_path):
    outs = {}
    rng = np.random.default_rng(11)
    mel = rng.standard_normal((4, 80)).astype(np.float32)
    x = rng.integers(0, 256, 800)
    for name in ("tiny", "tiny-legacy"):
        _, project = compile_model(models[name], tmp_path / name)
        c = CModel(project)
        outs[name] = (c.teacher_forced(x, mel), c.vocode(mel, seed=3)[1])
    np.testing.assert_array_equal(outs["tiny"][0], outs["tiny-legacy"][0])
    np.testing.assert_array_equal(outs["tiny"][1], outs["tiny-legacy"][1])


def test_verify_detects_a_wrong_kernel(models, tmp_path):
    """The checks can fail: corrupt one weight of the emitted C and verification must notice."""
    project = tmp_path / "broken"
    compile_model(models["tiny"], project)
    weights = (project / "wn_weights.h").read_text()
    i = weights.index("WN_HEAD2_B[256] = {") + len("WN_HEAD2_B[256] = {")
    j = weights.index(",", i)
    (project / "wn_weights.h").write_text(weights[:i] + "\n    1.0e+01f" + weights[j:])
    c = CModel(project)
    mel = np.zeros((1, 80), np.float32)
    from wncc.golden.model import GoldenModel
    golden = GoldenModel(load(models["tiny"]))
    x = np.full(200, 128)
    assert not np.array_equal(c.teacher_forced(x, mel), golden.teacher_forced(x, mel))


# ---------------------------------------------------------------- other ends of the sample loop
CHECKS = ["logits_vs_onnxruntime", "logits_vs_golden", "samples_vs_golden",
          "streaming_golden_vs_c"]


@pytest.mark.parametrize("input, head, dynamo, kw, ops", [
    ("onehot", "categorical", True, {}, {"embed"}),  # float [1, Q, T] one-hot, 1x1 conv
    ("onehot", "categorical", False, {"input_kernel": 2}, {"onehot", "conv_ring"}),
    ("onehot_op", "categorical", False, {}, {"embed"}),  # ONNX OneHot
    ("onehot_equal", "categorical", True, {}, {"embed"}),  # Equal(x, arange) + Cast
    ("onehot_scatter", "categorical", True, {}, {"embed"}),  # Mod + ScatterElements
    ("onehot_scatter", "categorical", False, {}, {"embed"}),
    ("scalar", "mol", True, {}, {"conv"}),
    ("scalar", "gaussian", True, {"input_kernel": 2}, {"conv_ring"}),
])
def test_verify_other_inputs_and_heads_fp32(ends_model, input, head, dynamo, kw, ops, tmp_path):
    model = ends_model(input, head, dynamo, **kw)
    report = verify(model, project=tmp_path / "p", seconds=0.25, golden_samples=1000)
    assert [c.name for c in report.checks] == CHECKS
    assert report.passed, report.checks
    graph = load(model)
    assert graph.input_kind == ("class" if input == "embed" else
                                "scalar" if input == "scalar" else "onehot")
    assert graph.head.kind == head
    first = graph.consumers(graph.class_input)[0]
    assert {first.op, *(n.op for n in graph.consumers(first.outputs[0]))} >= ops
    if head != "categorical":  # the samples are values that vary, within [-1, 1]
        values, pcm = CModel(tmp_path / "p").vocode(np.zeros((2, 80), np.float32), seed=5)
        assert values.dtype == np.float32 and np.abs(values).max() <= 1.0
        assert len(np.unique(values)) > 100 and len(np.unique(pcm)) > 100


@pytest.mark.parametrize("input, dynamo", [("onehot", True), ("onehot_op", False),
                                           ("onehot_equal", True), ("onehot_scatter", True)])
def test_verify_one_hot_inputs_int8(ends_model, input, dynamo):
    """The one-hot constructions in int8: the embedding table from the integer 1x1 conv equals
    it bit for bit (C == golden on every logit and sample)."""
    from wncc.quant.quantize import quantize
    model = ends_model(input, dynamo=dynamo)
    q = quantize(model, "int8", CLIP, model.with_suffix(".int8.onnx"))
    report = verify(q, dtype="int8", seconds=0.25, golden_samples=1000)
    assert report.passed, report.checks


def test_verify_mixture_int8_body_float_head(ends_model):
    from wncc.quant.quantize import quantize
    model = ends_model("scalar", "mol")
    q = quantize(model, "int8", CLIP, model.with_suffix(".int8.onnx"))
    report = verify(q, dtype="int8", seconds=0.25, golden_samples=1000)
    assert report.passed, report.checks


@pytest.mark.parametrize("deemphasis", [0.0, 0.85])
def test_categorical_scalar_input_linear(ends_model, deemphasis):
    """A scalar input with a categorical head of 64 classes feeds back the class's value; with
    de-emphasis the PCM is filtered (checked with the samples against the golden model)."""
    from wncc.ir import Head
    from wncc.pipeline import Ends
    model = ends_model("scalar", classes=64)
    ends = Ends(head=Head(companding="linear", deemphasis=deemphasis))
    report = verify(model, seconds=0.25, golden_samples=1000, ends=ends)
    assert report.passed, report.checks
    graph = load(model, ends=ends)
    assert graph.head == Head("categorical", "linear", -7.0, deemphasis)


def test_static_time_axis(ends_model):
    """A graph exported with a fixed length: ONNX Runtime runs that length, the C streams on."""
    model = ends_model("onehot", dynamo=False, static_frames=3, names=("c", "feats"))
    assert static_samples(model, load(model)) == 600
    report = verify(model, seconds=0.25, golden_samples=1000)
    assert report.passed and "over 600 samples" in report.checks[0].value, report.checks


def test_real_audio_teacher_forces_other_class_counts(ends_model):
    """--data for a 64-class linear one-hot model: the audio's own classes at that resolution."""
    from wncc.audio import read_wav
    from wncc.ir import Head
    from wncc.pipeline import Ends
    ends = Ends(head=Head(companding="linear"))
    report = verify(ends_model("onehot_scatter", classes=64), seconds=0.25, golden_samples=600,
                    audio=read_wav(CLIP), ends=ends)
    assert report.passed, report.checks


@pytest.mark.parametrize("dtype", ["fp32", "int8", pytest.param("int16x8", marks=pytest.mark.long)])
def test_gumbel_sampler_stays_an_option(models, shipped_quantized, ends_model, dtype):
    """--sampler gumbel (one draw per class) verifies as the default cdf sampler does, and the
    two draw different (both seeded) sequences."""
    from wncc.ir import Head
    from wncc.pipeline import Ends
    model = models["tiny"] if dtype == "fp32" else shipped_quantized(dtype)
    gumbel = Ends(head=Head(sampler="gumbel"))
    report = verify(model, dtype=dtype, seconds=0.1, golden_samples=600, ends=gumbel)
    assert report.passed, report.checks
    assert load(model, ends=gumbel).head.sampler == "gumbel" and load(model).head.sampler == "cdf"
    if dtype == "fp32":  # a mixture's component by Gumbel-max; the two samplers' sequences
        mol = ends_model("scalar", "mol")
        assert verify(mol, seconds=0.1, golden_samples=600, ends=gumbel).passed
        from wncc.golden.model import GoldenModel
        mel = np.random.default_rng(0).standard_normal((3, 80)).astype(np.float32)
        a, b = (GoldenModel(load(model, ends=e)).vocode(mel, seed=1)[0] for e in (gumbel, None))
        assert a.shape == b.shape == (600,) and not np.array_equal(a, b)

"""End to end on the host: compiled C against ONNX Runtime and the golden model."""

from __future__ import annotations

import numpy as np

from wncc.compiler import compile_model
from wncc.harness import CModel
from wncc.verify import verify


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
    from wncc.pipeline import load
    golden = GoldenModel(load(models["tiny"]))
    x = np.full(200, 128)
    assert not np.array_equal(c.teacher_forced(x, mel), golden.teacher_forced(x, mel))

"""The compression target of the sparsity work: base pruned to 90% in 4x4 blocks (embedding
included), int8 with per-tensor weight scales, everything counted, reaches 25x; the C stays
exactly the golden model. One-shot pruning (fast) stores the same blocks per layer as the
iterative run in benchmarks/results/study_base.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.long  # the largest model of the default suite; CI runs it with -m long
def test_base_90_percent_blocks_int8_per_tensor_reaches_25x(tmp_path):
    from wncc.compiler import compile_model
    from wncc.golden.model import GoldenModel
    from wncc.harness import CModel
    from wncc.prune import export_onnx, prune
    from wncc.prune.examples import load_model
    from wncc.quant.quantize import quantize

    model, _, _ = load_model(ROOT / "examples" / "models" / "base.pt")
    prune(model, 0.9, pattern="block:4x4", scope="layer", include_embedding=True)
    pruned = export_onnx(model, tmp_path / "b90.onnx")
    clip = ROOT / "examples" / "data" / "test_clip.wav"
    per_tensor = quantize(pruned, "int8", clip, tmp_path / "b90-int8.onnx", per_channel=False)
    graph, project = compile_model(per_tensor, tmp_path / "p", dtype="int8")
    report = json.loads((project / "report.json").read_text())
    assert report["parameters"] == 848_960
    assert report["compression_ratio"] >= 25.0, report["compression_ratio"]
    mel = np.load(ROOT / "examples" / "data" / "test_clip_mel.npy")[:3]
    x = np.random.default_rng(3).integers(0, 256, 600)
    np.testing.assert_array_equal(CModel(project).teacher_forced(x, mel),
                                  GoldenModel(graph).teacher_forced(x, mel))

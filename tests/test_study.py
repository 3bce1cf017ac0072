"""The compression study on the trained tiny: real numbers, exact C, monotone compression."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from wncc import study

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "examples" / "models" / "tiny.onnx"
CLIP = ROOT / "examples" / "data" / "test_clip.wav"


def _pruned(tmp: Path, sparsity: float) -> Path:
    m = onnx.load(str(TINY))
    for init in m.graph.initializer:
        a = numpy_helper.to_array(init)
        if init.name.endswith("weight") and a.ndim == 3:
            a = np.where(np.abs(a) >= np.quantile(np.abs(a), sparsity), a, 0).astype(np.float32)
            init.CopyFrom(numpy_helper.from_array(a, init.name))
    path = tmp / f"tiny-oneshot-unstructured-layer-s{round(100 * sparsity)}.onnx"
    onnx.save(m, str(path))
    return path


def test_describe_names():
    assert study.describe(Path("tiny-iterative-b4x4-layer-s90.onnx")) == ("iterative", "b4x4", 0.9)
    assert study.describe(Path("base.onnx")) == ("dense", "-", 0.0)


def test_study_rows(tmp_path):
    models = [TINY, _pruned(tmp_path, 0.9)]
    rows = study.run(models, ["fp32", "int8"], CLIP, seconds=0.5)
    assert [(r.model, r.dtype) for r in rows] == [
        ("tiny", "fp32"), ("tiny", "int8"),
        ("tiny-oneshot-unstructured-layer-s90", "fp32"), ("tiny-oneshot-unstructured-layer-s90", "int8")]
    assert all(r.exact for r in rows)
    dense32, dense8, sparse32, sparse8 = rows
    assert dense32.compression_ratio == 1.0
    assert sparse8.compression_ratio > sparse32.compression_ratio > dense8.compression_ratio / 2
    assert sparse8.compression_ratio > dense8.compression_ratio
    assert set(sparse8.storage) - {"dense"}  # the cost model stored the pruned layers sparsely
    assert 0 < dense32.nll_bits < 8 and dense8.nll_bits < dense32.nll_bits + 0.5
    assert "| tiny |" in study.markdown(rows)
    assert [r.weight_scales for r in rows] == ["-", "per-channel"] * 2


def test_per_tensor_rows_store_less(tmp_path):
    """One weight scale per tensor: one requantization pair per layer instead of one per
    channel, so more compression; the C stays exact."""
    pruned = _pruned(tmp_path, 0.9)
    pc = study.run([pruned], ["int8"], CLIP, seconds=0.5)[0]
    pt = study.run([pruned], ["int8"], CLIP, seconds=0.5, per_channel=False)[0]
    assert pt.weight_scales == "per-tensor" and pt.exact
    assert pt.compression_ratio > pc.compression_ratio


@pytest.mark.slow
def test_full_tiny_study(tmp_path):
    """A sweep over sparsity levels and four precisions (run: pytest -m slow)."""
    models = [_pruned(tmp_path, s) for s in (0.5, 0.7, 0.8, 0.9, 0.95)]
    rows = study.run([TINY, *models], ["fp32", "int8", "int4", "int16x8"], CLIP, seconds=1.0)
    assert all(r.exact for r in rows)
    int8 = [r.compression_ratio for r in rows if r.dtype == "int8"]
    assert int8 == sorted(int8)

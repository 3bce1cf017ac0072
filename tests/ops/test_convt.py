"""convt in integers: each output row (phase) sums one kernel tap, so the input zero point is
folded into the bias per phase; with the fold over every tap the logits were off by many steps
(7% within one step of ONNX Runtime on tiny-transpose int8, measured before the fix)."""

from __future__ import annotations

import numpy as np

from conftest import CLIP
from wncc.pipeline import load
from wncc.quant.quantize import quantize
from wncc.verify import verify


def test_transposed_upsampling_int8_agrees_with_onnxruntime(models, tmp_path):
    q = quantize(models["tiny-transpose"], "int8", CLIP, tmp_path / "tt-int8.onnx")
    node = next(n for n in load(q).nodes if n.op == "convt")
    p = node.attrs["q"]
    hop, cout = p.w.shape[2], p.w.shape[1]
    assert p.bias.shape == (hop * cout,)
    wq = node.weights["wq"].astype(np.int64)
    raw = p.bias.reshape(hop, cout) + p.zp_in * wq.sum(axis=0).T
    assert np.all(raw == raw[:1])  # the same real bias in every phase, folded per phase
    report = verify(q, dtype="int8", seconds=0.1, audio=None)
    ort = next(c for c in report.checks if c.name == "logits_vs_onnxruntime")
    assert report.passed and ort.measure >= 0.99, ort.value

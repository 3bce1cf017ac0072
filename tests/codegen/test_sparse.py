"""Sparse storage in the emitted C: every format equals the golden model (dense arithmetic)
exactly for fp32, int8, int4 and int16x8 (convolutions in each format, the embedding table as
CSR rows), and the report accounts for every byte."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from wncc.compiler import compile_model
from wncc.errors import WnccError
from wncc.golden.model import GoldenModel
from wncc.harness import CModel

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("dtype", ["fp32", "int8", "int4", "int16x8"])
@pytest.mark.parametrize("fmt", ["csr", "bitmask", "bsr:4x4"])
def test_sparse_formats_are_exact(pruned, tmp_path, dtype, fmt):
    graph, project = compile_model(pruned[dtype], tmp_path / "p", dtype=dtype, sparse=[fmt])
    report = json.loads((project / "report.json").read_text())
    convs = [layer for layer in report["layers"] if layer["op"] in ("conv", "conv_ring")]
    assert convs and all(layer["storage"] == fmt for layer in convs)
    embed = next(layer for layer in report["layers"] if layer["op"] == "embed")
    assert embed["storage"] == "csr" and 0.05 < embed["density"] < 0.15
    mel = np.load(ROOT / "examples" / "data" / "test_clip_mel.npy")[:4]
    x = np.random.default_rng(1).integers(0, 256, 800)
    c = CModel(project)
    np.testing.assert_array_equal(c.teacher_forced(x, mel), GoldenModel(graph).teacher_forced(x, mel))
    np.testing.assert_array_equal(c.vocode(mel[:2], seed=4)[0], GoldenModel(graph).vocode(mel[:2], seed=4)[0])


def test_auto_picks_sparse_for_pruned_and_dense_for_dense(pruned, tmp_path):
    _, p = compile_model(pruned["int8"], tmp_path / "a", dtype="int8")
    layers = json.loads((p / "report.json").read_text())["layers"]
    assert {layer["storage"] for layer in layers if "storage" in layer} - {"dense"}
    _, q = compile_model(ROOT / "examples" / "models" / "tiny.onnx", tmp_path / "b")
    layers = json.loads((q / "report.json").read_text())["layers"]
    assert {layer["storage"] for layer in layers if "storage" in layer} == {"dense"}
    assert all("storage_reason" in layer for layer in layers if layer["op"] in ("conv", "conv_ring"))


def test_compression_accounting(pruned, tmp_path):
    _, dense = compile_model(pruned["int8"], tmp_path / "d", dtype="int8", sparse=["dense"])
    _, sparse = compile_model(pruned["int8"], tmp_path / "s", dtype="int8", sparse=["bsr:4x4"])
    rd = json.loads((dense / "report.json").read_text())
    rs = json.loads((sparse / "report.json").read_text())
    assert rs["weights_bytes"] < rd["weights_bytes"]
    assert rs["compression_ratio"] == round(4 * rs["parameters"] / rs["weights_bytes"], 4)
    for layer in rs["layers"]:
        parts = sum(v for k, v in layer.items() if k.endswith("_bytes") and k != "stored_bytes")
        assert layer["stored_bytes"] == parts
    assert sum(layer["stored_bytes"] for layer in rs["layers"]) <= rs["weights_bytes"]


def test_embedding_dense_on_request_and_when_smaller(pruned, tmp_path):
    _, p = compile_model(pruned["int8"], tmp_path / "p", dtype="int8", sparse=["embed=dense"])
    embed = json.loads((p / "report.json").read_text())["layers"][0]
    assert embed["op"] == "embed" and embed["storage"] == "dense"
    assert embed["table_bytes"] == 256 * 16 and embed["index_bytes"] == 0
    _, q = compile_model(ROOT / "examples" / "models" / "tiny.onnx", tmp_path / "q")
    embed = json.loads((q / "report.json").read_text())["layers"][0]
    assert embed["storage"] == "dense" and "csr" in embed["storage_reason"]


def test_block_shape_that_does_not_divide(pruned, tmp_path):
    with pytest.raises(WnccError, match="does not divide"):
        compile_model(pruned["int8"], tmp_path / "x", dtype="int8", sparse=["bsr:5x3"])
    assert not (tmp_path / "x").exists()

"""QOperator models (QLinearConv, com.microsoft QLinearAdd / QLinearMul / QLinearSigmoid, integer
Gather / Transpose / Split / Pad) import as their QDQ equivalents and verify; a QOperator op with
no QDQ form is refused in one line naming the node."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Callable

import onnx
import pytest

from wncc.errors import WnccError
from wncc.frontend.onnx import import_model
from wncc.quant.quantize import quantize
from wncc.verify import verify

QOPERATOR = {"activation_type": "QUInt8", "quant_format": "qoperator"}
CLIP = Path(__file__).resolve().parents[2] / "examples" / "data" / "test_clip.wav"


def op_types(path: Path) -> Counter:
    return Counter(f"{n.domain}.{n.op_type}".lstrip(".") for n in onnx.load(str(path)).graph.node)


def test_qoperator_imports_as_the_qdq_model(shipped_quantized, assert_same_integer_model):
    """ORT's uint8 QOperator model and its int8 QDQ model of the shipped tiny hold the same
    scales and weights, so they import to the same integer graph and the same logits."""
    qop, qdq = shipped_quantized("int8", **QOPERATOR), shipped_quantized("int8")
    ops = op_types(qop)
    assert ops["QLinearConv"] == 17 and ops["com.microsoft.QLinearAdd"] == 10
    assert ops["com.microsoft.QLinearMul"] == 7 and ops["com.microsoft.QLinearSigmoid"] == 4
    assert ops["Tanh"] == 4 and ops["Conv"] == 0  # tanh stays DQ -> Tanh -> Q
    assert_same_integer_model(qop, qdq)


def test_qoperator_verify_command_passes(shipped_quantized):
    proc = subprocess.run([sys.executable, "-m", "wncc.cli", "verify",
                           shipped_quantized("int8", **QOPERATOR), "--dtype", "int8",
                           "--seconds", "0.5", "--samples", "400"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "verify: PASS" in proc.stdout and proc.stdout.count("PASS") >= 6
    assert re.search(r"logits_vs_onnxruntime\W+PASS", proc.stdout), proc.stdout
    assert "0 of 2048000 values differ" in proc.stdout


@pytest.mark.parametrize("source, options", [
    ("shipped", {"quant_format": "qoperator"}),
    ("shipped", {**QOPERATOR, "weight_type": "QUInt8", "per_channel": False}),
    ("tiny-legacy", QOPERATOR),
], ids=["int8-activations", "uint8-per-tensor-weights", "legacy-export-pads"])
def test_qoperator_models_verify(shipped_quantized, models, tmp_path, source, options):
    """int8 activations (ORT quantizes the embedding table symmetrically there); ORT's old
    default, uint8 weights, here one scale per weight; the legacy export's Pad, Reshape and
    Slice nodes on integer tensors."""
    path = (shipped_quantized("int8", **options) if source == "shipped"
            else quantize(models[source], "int8", CLIP, tmp_path / "q.onnx", calib_crops=4,
                          **options))
    assert op_types(path)["QLinearConv"] == 17
    report = verify(path, dtype="int8", seconds=0.5, golden_samples=1000)
    assert report.passed, report.checks
    checks = {c.name: c for c in report.checks}
    assert checks["logits_vs_golden"].measure == 0
    assert checks["logits_vs_onnxruntime"].measure >= 0.99


def _replace(op_type: str, new: str) -> Callable[[onnx.ModelProto], None]:
    """An edit of a model: its first op_type node becomes a new op that reads its first input."""
    def edit(m: onnx.ModelProto) -> None:
        node = next(n for n in m.graph.node if n.op_type == op_type)
        node.op_type = new
        del node.attribute[:], node.input[1:]
    return edit


@pytest.mark.parametrize("edit, message", [
    (_replace("QLinearSigmoid", "QLinearSoftmax"),
     "node 'node_sigmoid_quant': QOperator op 'com.microsoft.QLinearSoftmax' has no QDQ form "
     "here (supported: QLinearConv, "),
    (_replace("DequantizeLinear", "Abs"),
     "node 'split_split_0_DequantizeLinear': 'Abs' reads the integer tensor "
     "'split_split_0quantized' of a QOperator graph"),
], ids=["qlinear-softmax", "abs-of-integers"])
def test_unmappable_op_one_line_exit_2(shipped_quantized, tmp_path, edit, message):
    m = onnx.load(str(shipped_quantized("int8", **QOPERATOR)))
    edit(m)
    path = tmp_path / "bad.onnx"
    onnx.save(m, str(path))
    with pytest.raises(WnccError, match="^" + re.escape(f"{path}: {message}")):
        import_model(path)
    proc = subprocess.run([sys.executable, "-m", "wncc.cli", "compile", path, "--dtype", "int8",
                           "-o", tmp_path / "out"], capture_output=True, text=True)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr
    assert not (tmp_path / "out").exists()

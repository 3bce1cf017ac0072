"""The command line: exit codes, one-line errors, no partial output, the main commands."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest


def wncc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wncc.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


@pytest.mark.parametrize("command", ["compile", "verify", "inspect", "vocode", "quantize", "prune",
                                     "study", "fidelity"])
def test_help(command):
    proc = wncc(command, "--help")
    assert proc.returncode == 0 and "usage: wncc" in proc.stdout


def test_compile_and_inspect(models, tmp_path):
    out = tmp_path / "proj"
    proc = wncc("compile", models["tiny"], "--target", "host", "--dtype", "fp32", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert (out / "wn_model.c").exists() and (out / "report.json").exists()
    assert "receptive field" in proc.stdout
    proc = wncc("inspect", models["tiny"])
    assert proc.returncode == 0 and "receptive field (samples)" in proc.stdout
    assert "layers.3.conv" in proc.stdout and "frame" in proc.stdout


def _bad_models(models, tmp: Path) -> dict[str, Path]:
    import onnx
    from onnx import helper
    data = models["tiny"].read_bytes()
    (tmp / "truncated.onnx").write_bytes(data[: len(data) // 3])
    m = onnx.load(str(models["tiny"]))
    next(n for n in m.graph.node if n.op_type == "Tanh").op_type = "Erf"
    onnx.save(m, str(tmp / "erf.onnx"))
    for name, attr, value in (("symmetric", "pads", [1, 1]), ("strided", "strides", [2])):
        m = onnx.load(str(models["tiny"]))
        conv = next(n for n in m.graph.node if n.op_type == "Conv" and any(
            a.name == "kernel_shape" and list(a.ints) == [2] for a in n.attribute))
        for a in list(conv.attribute):
            if a.name == attr:
                conv.attribute.remove(a)
        conv.attribute.append(helper.make_attribute(attr, value))
        onnx.save(m, str(tmp / f"{name}.onnx"))
    return {"truncated": tmp / "truncated.onnx", "unsupported op": tmp / "erf.onnx",
            "symmetric": tmp / "symmetric.onnx", "strided": tmp / "strided.onnx",
            "missing": tmp / "missing.onnx"}


def test_bad_input_one_line_exit_2_no_output(models, tmp_path):
    expected = {"truncated": "not a valid ONNX model", "unsupported op": "unsupported op 'Erf'",
                "symmetric": "non-causal convolution", "strided": "strided convolution",
                "missing": "file not found"}
    for case, path in _bad_models(models, tmp_path).items():
        out = tmp_path / f"out-{case.replace(' ', '_')}"
        proc = wncc("compile", path, "-o", out)
        assert proc.returncode == 2, (case, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and expected[case] in lines[0], (case, proc.stderr)
        assert "Traceback" not in proc.stderr and not out.exists()
        if case in ("unsupported op", "symmetric", "strided"):
            assert "node '" in lines[0]
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out-")]
    assert leftovers == []


def test_bad_mel_and_target(models, tmp_path):
    np.save(tmp_path / "bad.npy", np.zeros((3, 7, 2), np.float32))
    proc = wncc("vocode", models["tiny"], "--mel", tmp_path / "bad.npy", "-o", tmp_path / "a.wav")
    assert proc.returncode == 2 and "2-D array" in proc.stderr
    proc = wncc("compile", models["tiny"], "--target", "nowhere", "-o", tmp_path / "x")
    assert proc.returncode == 2 and "unknown target 'nowhere'" in proc.stderr
    assert not (tmp_path / "x").exists()


def test_vocode_writes_wav(models, tmp_path):
    mel = np.random.default_rng(0).standard_normal((5, 80)).astype(np.float32)
    np.save(tmp_path / "mel.npy", mel)
    proc = wncc("vocode", models["tiny"], "--mel", tmp_path / "mel.npy", "-o", tmp_path / "o.wav",
                "--seed", "4")
    assert proc.returncode == 0, proc.stderr
    with wave.open(str(tmp_path / "o.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 16000, 1000)
        pcm = np.frombuffer(w.readframes(1000), "<i2")
    from wncc.golden.model import GoldenModel
    from wncc.passes.pipeline import load
    _, golden = GoldenModel(load(models["tiny"])).vocode(mel, seed=4)
    np.testing.assert_array_equal(pcm, golden)


def test_verify_command_passes(models):
    proc = wncc("verify", models["tiny"], "--seconds", "0.5", "--samples", "400")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "verify: PASS" in proc.stdout and proc.stdout.count("PASS") >= 5

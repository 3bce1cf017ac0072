"""The emitted API's contract for bad input, under ASan and UBSan (float-cast-overflow included):
non-finite mel frames are refused with WN_ERR_INPUT and the state unchanged, huge finite ones give
defined results, and random call sequences (arguments in and out of range, calls out of order,
null pointers, a state never initialized, wn_generate_batch with a repeated state) get the
documented status every time."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from wncc.compiler import compile_model

HERE = Path(__file__).resolve().parent
SANITIZE = ("-O1 -g -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all "
            "-fno-omit-frame-pointer")
DTYPES = ("fp32", "fp16", "bf16", "int16", "int16x8", "int8", "int4")


def _fuzzer(model: Path, dtype: str, work: Path) -> Path:
    """The model compiled for the host and linked with api_fuzz.c, all under the sanitizers."""
    _, project = compile_model(model, work / "project", dtype=dtype)
    proc = subprocess.run(["make", "-s", "-C", str(project), "libwn.a", "CC=gcc",
                           f"CFLAGS={SANITIZE}"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    exe = work / "api_fuzz"
    proc = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", *SANITIZE.split(),
                           f"-I{project}", "-o", str(exe), str(HERE / "api_fuzz.c"),
                           str(project / "libwn.a")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return exe


def _run(exe: Path, *args: str) -> int:
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "runtime error" not in proc.stderr, proc.stderr[-3000:]
    return int(proc.stdout.split()[-1])


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
@pytest.mark.parametrize("dtype", DTYPES)
def test_non_finite_frames_refused_huge_frames_defined(models, shipped_quantized, dtype, tmp_path):
    model = models["tiny"] if dtype == "fp32" else shipped_quantized(dtype)
    exe = _fuzzer(model, dtype, tmp_path)
    assert _run(exe, "frames") == 1 + 3 + 4 * 2


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
@pytest.mark.parametrize("which", ["fp32", "int8", "sparse-int8"])
def test_random_call_sequences(models, shipped_quantized, pruned, which, tmp_path):
    model = {"fp32": models["tiny"], "int8": shipped_quantized("int8"),
             "sparse-int8": pruned["int8"]}[which]
    exe = _fuzzer(model, "fp32" if which == "fp32" else "int8", tmp_path)
    for seed in (1, 2):
        assert _run(exe, "calls", str(seed), "3000") == 3000 + 10


def test_scalar_input_refuses_values_outside_minus_one_one(ends_model, tmp_path):
    """A scalar samples input takes the previous sample's value: NaN, infinities and values
    outside [-1, 1] are WN_ERR_ARG, and the refused call changes nothing."""
    import numpy as np

    from wncc.harness import CModel
    _, project = compile_model(ends_model("scalar", "gaussian"), tmp_path / "p")
    c = CModel(project)
    c.push_frame(np.zeros(80, np.float32))
    before = bytes(c.ffi.buffer(c._mem))
    for x in (float("nan"), float("inf"), 1.0000001, -2.0):
        with pytest.raises(RuntimeError, match="WN_ERR_ARG"):
            c.step_logits(x)
    assert bytes(c.ffi.buffer(c._mem)) == before
    assert np.isfinite(c.step_logits(-1.0)).all() and np.isfinite(c.step_logits(1.0)).all()

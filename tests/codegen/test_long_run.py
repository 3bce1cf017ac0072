"""Long runs and concurrency: ten minutes of audio teacher-forced through one wn_state equal the
golden model on the last second (counters never drift or overflow), two identical runs give
identical bytes, and the library has no writable global state (two states on two threads under
ThreadSanitizer give the bytes of two sequential runs)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from wncc.compiler import compile_model
from wncc.golden.model import GoldenModel
from wncc.harness import header_macro
from wncc.passes import stats

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TINY = ROOT / "examples" / "models" / "tiny.onnx"
HOP, N_MELS = 200, 80
TEN_MINUTES = 10 * 60 * 16000 // HOP  # frames
pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 of counters, as long_run.c computes it."""
    z = z.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _inputs(first: int, frames: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """long_run.c's mel frames [first, first + frames) and their classes."""
    f = np.arange(first, first + frames, dtype=np.uint64)[:, None]
    i = np.arange(N_MELS, dtype=np.uint64)[None, :]
    mel = (_mix((f << np.uint64(8)) | i) % np.uint64(2001)).astype(np.float32)
    mel = mel / np.float32(200.0) - np.float32(5.0)
    t = np.arange(first * HOP, (first + frames) * HOP, dtype=np.uint64)
    x = (_mix(np.uint64(1 << 63) | t) % np.uint64(classes)).astype(np.int64)
    return mel, x


def _build(project: Path, exe: Path, source: str, flags: list[str]) -> Path:
    proc = subprocess.run(["make", "-s", "-C", str(project), "libwn.a", "CC=gcc",
                           f"CFLAGS={' '.join(['-O2', *flags])}"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", *flags,
                           f"-I{project}", "-o", str(exe), str(HERE / source),
                           str(project / "libwn.a"), "-lpthread"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return exe


@pytest.fixture(scope="module")
def projects(shipped_quantized, tmp_path_factory) -> dict[str, tuple]:
    d = tmp_path_factory.mktemp("long")
    return {dtype: compile_model(TINY if dtype == "fp32" else shipped_quantized(dtype),
                                 d / dtype, dtype=dtype)
            for dtype in ("fp32", "int8")}


def _long_run(graph, project: Path, work: Path, frames: int, tail: int) -> None:
    exe = _build(project, work / "long_run", "long_run.c", [])
    digests = []
    for run in range(2):
        out = work / f"tail{run}.bin"
        proc = subprocess.run([str(exe), str(frames), str(tail), str(out)], capture_output=True,
                              text=True, timeout=1800)
        assert proc.returncode == 0 and proc.stdout.split() == ["ok", str(frames * HOP)], proc.stderr
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    # a fresh golden model a receptive field (and a frame) ahead of the tail computes the tail
    warm = -(-stats.compute(graph).receptive_field // HOP) + 1
    first = frames - tail - warm
    mel, x = _inputs(first, tail + warm, graph.classes)
    want = GoldenModel(graph).teacher_forced(x, mel)[warm * HOP:]
    kind = header_macro((project / "wn_model.h").read_text(), "WN_LOGIT_KIND")
    got = np.fromfile(work / "tail0.bin", [np.float32, np.int8, np.int16][kind])
    assert got.size == want.size
    np.testing.assert_array_equal(got.reshape(want.shape), want)


@pytest.mark.parametrize("dtype", ["fp32", "int8"])
def test_short_run_tail_equals_golden(projects, dtype, tmp_path):
    """The same check on 3 s: keeps the machinery of the long run in the default suite."""
    graph, project = projects[dtype]
    _long_run(graph, project, tmp_path, frames=240, tail=80)


@pytest.mark.long
@pytest.mark.parametrize("dtype", ["fp32", "int8"])
def test_ten_minutes_tail_equals_golden(projects, dtype, tmp_path):
    graph, project = projects[dtype]
    _long_run(graph, project, tmp_path, frames=TEN_MINUTES, tail=80)


@pytest.mark.parametrize("dtype", ["fp32", "int8"])
def test_no_writable_global_state(projects, dtype):
    _, project = projects[dtype]
    proc = subprocess.run(["make", "-s", "-C", str(project), "libwn.a", "CC=gcc"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    symbols = subprocess.run(["objdump", "-t", str(project / "libwn.a")], capture_output=True,
                             text=True, check=True).stdout
    # .data.rel.ro holds const tables with pointers in a position-independent build: read-only
    # once relocated, and plain .rodata on the bare-metal targets
    writable = [line for line in symbols.splitlines()
                if any(f" {s}" in line for s in (".data\t", ".bss\t", "*COM*"))]
    assert writable == []
    assert "F .text\t" in symbols and "wn_generate" in symbols  # the listing is the library's


@pytest.mark.parametrize("dtype", ["fp32", "int8"])
def test_two_states_on_two_threads(projects, dtype, tmp_path):
    _, project = projects[dtype]
    work = tmp_path / "tsan"
    shutil.copytree(project, work)
    exe = _build(work, tmp_path / "two_threads", "two_threads.c", ["-g", "-fsanitize=thread"])
    proc = subprocess.run([str(exe), "6"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]
    assert "ThreadSanitizer" not in proc.stderr

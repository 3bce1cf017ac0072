"""Instruction counts on targets: exact, repeatable, and the optimized kernels count less."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wncc import counting
from wncc.bench.target import OP_CLASSES, bench, op_classes, profile_markdown
from wncc.errors import WnccError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def int8_tiny(shipped_quantized) -> Path:
    return shipped_quantized("int8")


def _plugin_or_skip() -> None:
    try:
        counting.plugin_path()
    except WnccError as exc:
        pytest.skip(f"qemu counting plugin unavailable: {exc}")


def test_counts_repeat_and_scale(int8_tiny):
    _plugin_or_skip()
    mel = np.load(ROOT / "examples" / "data" / "test_clip_mel.npy")
    one = bench(int8_tiny, "cortex-m4", "int8", frames=1, mel=mel)
    again = bench(int8_tiny, "cortex-m4", "int8", frames=1, mel=mel)
    two = bench(int8_tiny, "cortex-m4", "int8", frames=2, mel=mel)
    assert one.instructions == again.instructions and one.samples == 200 and two.samples == 400
    assert abs(two.instructions_per_sample / one.instructions_per_sample - 1) < 0.05
    assert one.flash_bytes > 40000 and one.ram_bytes > 5000 and one.realtime_factor_estimate > 0


def test_profile_splits_the_work_per_sample(int8_tiny):
    """--profile: the functions' instructions per sample add up to the run, the generated
    sample's work is nearly all of it, and the matrix-vector products lead."""
    _plugin_or_skip()
    row = bench(int8_tiny, "cortex-m7", "int8", frames=2, profile=True)
    classes = op_classes(row.profile)
    whole = sum(classes.values())
    assert list(classes) == [name for name, _ in OP_CLASSES]
    assert abs(whole / row.instructions_per_sample - 1) < 0.02
    assert max(classes, key=classes.get).startswith("matrix-vector")
    assert classes["sampling"] > 0 and row.profile["wn_sample_cdf_s8"] > 0
    assert "cortex-m7 tiny" in profile_markdown([row])
    with pytest.raises(WnccError, match="qemu"):
        bench(int8_tiny, "x86", "int8", frames=1, profile=True)


def test_dsp_kernels_count_less_than_plain_thumb(int8_tiny):
    _plugin_or_skip()
    m3 = bench(int8_tiny, "cortex-m3", "int8", frames=1)
    m4 = bench(int8_tiny, "cortex-m4", "int8", frames=1)
    assert m4.instructions_per_sample < 0.9 * m3.instructions_per_sample


def test_x86_counts_with_callgrind(int8_tiny):
    import shutil
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind not installed")
    from wncc import emulate
    from wncc.targets import load
    lacking = set(load("x86").cpu_flags) - emulate.host_cpu_flags()
    if lacking:
        pytest.skip(f"this CPU lacks {', '.join(sorted(lacking))}")
    row = bench(int8_tiny, "x86", "int8", frames=1)
    assert row.tool == "callgrind" and row.instructions_per_mac > 0.1


def test_avx512_target_is_a_clear_error(int8_tiny):
    """valgrind cannot run AVX-512 code: bench says so instead of reporting a crashed run."""
    with pytest.raises(WnccError, match="valgrind cannot run AVX-512"):
        bench(int8_tiny, "x86-vnni", "int8", frames=1)


def test_cli_quantizes_on_the_way(int8_tiny, tmp_path):
    """`wncc bench --target` takes a float model with --calib like compile does, and counts the
    same instructions as the model quantized beforehand."""
    import json
    import subprocess
    import sys
    _plugin_or_skip()
    out = tmp_path / "rows.json"
    proc = subprocess.run([sys.executable, "-m", "wncc.cli", "bench", "--target", "cortex-m4",
                           "--model", str(ROOT / "examples" / "models" / "tiny.onnx"), "--dtype",
                           "int8", "--calib", str(ROOT / "examples" / "data" / "test_clip.wav"),
                           "--frames", "1", "--json", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "wncc: counting instructions: cortex-m4" in proc.stderr.splitlines()
    [row] = json.loads(out.read_text())
    assert row["dtype"] == "int8" and row["target"] == "cortex-m4"
    assert row["instructions"] == bench(int8_tiny, "cortex-m4", "int8", frames=1).instructions

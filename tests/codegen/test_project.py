"""The emitted C project: deterministic, warning-free under gcc and clang, sanitizer-clean,
no malloc and no libm, builds with make and CMake."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from wncc.compiler import compile_model

STRICT = "-O1 -Werror -pedantic -Wshadow -Wconversion -Wno-sign-conversion -Wstrict-prototypes"


def _files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


def test_output_is_deterministic(models, tmp_path):
    _, a = compile_model(models["tiny-transpose"], tmp_path / "a")
    _, b = compile_model(models["tiny-transpose"], tmp_path / "b")
    fa, fb = _files(a), _files(b)
    assert fa.keys() == fb.keys() and all(fa[k] == fb[k] for k in fa)


def test_frontmatter_names_version_input_and_command(tiny_project, models):
    _, project = tiny_project
    head = (project / "wn_model.c").read_text().split("*/")[0]
    assert "wncc 0.1.0" in head and "sha256" in head and "wncc compile tiny.onnx" in head
    assert not re.search(r"20\d\d-\d\d-\d\d|\d\d:\d\d:\d\d", head)


def test_no_malloc_no_libm(tiny_project):
    _, project = tiny_project
    for p in project.glob("*.[ch]"):
        if p.name == "wn_main.c":
            continue
        text = p.read_text()
        assert not re.search(r"\b(malloc|calloc|realloc|free|alloca)\s*\(", text), p.name
        assert "<math.h>" not in text and "<stdlib.h>" not in text, p.name


def _build_strict(project: Path, work: Path, cc: str) -> None:
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} not installed")
    shutil.copytree(project, work)
    proc = subprocess.run(["make", "-C", str(work), f"CC={cc}", f"CFLAGS={STRICT}"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_builds_warning_free(tiny_project, tmp_path, cc):
    _build_strict(tiny_project[1], tmp_path / "build", cc)


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_other_sample_loop_ends_build_warning_free(ends_model, tmp_path, cc):
    """A kept one-hot, a mixture of logistics, a Gaussian with de-emphasis, a scalar input
    with a categorical head: every variant of the loop's C, deterministic and warning-free."""
    from wncc.ir import Head
    from wncc.pipeline import Ends
    cases = [(ends_model("onehot", dynamo=False, input_kernel=2), None),
             (ends_model("scalar", "mol"), None),
             (ends_model("scalar", "gaussian", input_kernel=2), Head(deemphasis=0.9)),
             (ends_model("scalar", classes=64), Head(companding="linear", deemphasis=0.5))]
    for i, (model, head) in enumerate(cases):
        _, project = compile_model(model, tmp_path / f"p{i}", ends=Ends(head=head))
        _, again = compile_model(model, tmp_path / f"again{i}", ends=Ends(head=head))
        assert _files(project) == _files(again)  # byte-identical for the same input
        _build_strict(project, tmp_path / f"build{i}", cc)


def test_sanitizers_clean_and_logits_match(tiny_project, tmp_path):
    graph, project = tiny_project
    work = tmp_path / "asan"
    shutil.copytree(project, work)
    flags = "-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
    proc = subprocess.run(["make", "-C", str(work), "wn_vocode", "CC=gcc", f"CFLAGS={flags}",
                           f"LDFLAGS={flags}"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rng = np.random.default_rng(5)
    mel = rng.standard_normal((3, 80)).astype(np.float32)
    mel.tofile(work / "mel.f32")
    run = subprocess.run([str(work / "wn_vocode"), "mel.f32", "out.pcm", "9", "0.8"], cwd=work,
                         capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip().endswith("PASS"), run.stderr
    assert (work / "out.pcm").stat().st_size == 3 * 200 * 2
    from wncc.golden.model import GoldenModel
    _, pcm = GoldenModel(graph).vocode(mel, seed=9, temperature=0.8)
    np.testing.assert_array_equal(np.fromfile(work / "out.pcm", np.int16), pcm)
    x = rng.integers(0, 256, 600).astype(np.int32)
    x.tofile(work / "x.i32")
    run = subprocess.run([str(work / "wn_vocode"), "--logits", "mel.f32", "x.i32", "logits.f32"],
                         cwd=work, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    got = np.fromfile(work / "logits.f32", np.float32).reshape(600, 256)
    np.testing.assert_array_equal(got, GoldenModel(graph).teacher_forced(x, mel))


def test_cmake_build(tiny_project, tmp_path):
    if shutil.which("cmake") is None:
        pytest.skip("cmake not installed")
    _, project = tiny_project
    build = tmp_path / "cmake"
    subprocess.run(["cmake", "-S", str(project), "-B", str(build)], check=True, capture_output=True)
    proc = subprocess.run(["cmake", "--build", str(build)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (build / "wn_vocode").exists()


def test_report_counts_weights_and_memory(tiny_project):
    import json
    graph, project = tiny_project
    report = json.loads((project / "report.json").read_text())
    from wncc.passes import stats
    st = stats.compute(graph)
    assert report["parameters"] == st.parameters
    assert report["weights_bytes"] == 4 * st.parameters
    assert report["compression_ratio"] == 1.0
    assert report["receptive_field"] == 16 and report["macs_per_sample"] == st.macs_per_sample
    assert sum(layer["weight_bytes"] + layer["bias_bytes"] + layer["table_bytes"]
               for layer in report["layers"]) == report["weights_bytes"]
    assert report["memory_bytes"]["ring"] == 4 * 304


def test_existing_foreign_folder_is_not_overwritten(models, tmp_path):
    from wncc.errors import WnccError
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(WnccError, match="not a wncc project"):
        compile_model(models["tiny"], target)
    assert (target / "notes.txt").read_text() == "keep me"


def test_cmake_says_cross_targets_build_with_make(models, tmp_path):
    if shutil.which("cmake") is None:
        pytest.skip("cmake not installed")
    _, project = compile_model(models["tiny"], tmp_path / "m4", target="cortex-m4")
    proc = subprocess.run(["cmake", "-S", str(project), "-B", str(tmp_path / "b")],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "build it with its Makefile" in " ".join(proc.stderr.split())


def test_mixture_sampling_sanitizer_clean_and_equal_to_golden(ends_model, tmp_path):
    """The mixture head's sampling, de-emphasis and PCM under ASan/UBSan: wn_vocode's PCM and
    the values in its history file equal the golden model's."""
    from wncc.golden.model import GoldenModel
    from wncc.ir import Head
    from wncc.pipeline import Ends
    graph, project = compile_model(ends_model("scalar", "mol"), tmp_path / "p",
                                   ends=Ends(head=Head(log_scale_min=-32.23619130191664,
                                                       deemphasis=0.9)))
    flags = ("-O1 -g -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all "
             "-fno-omit-frame-pointer")
    proc = subprocess.run(["make", "-C", str(project), "wn_vocode", "CC=gcc", f"CFLAGS={flags}",
                           f"LDFLAGS={flags}"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    mel = np.random.default_rng(2).standard_normal((2, 80)).astype(np.float32)
    mel.tofile(project / "mel.f32")
    run = subprocess.run([str(project / "wn_vocode"), "mel.f32", "out.pcm", "7", "0.8", "h.f32"],
                         cwd=project, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip().endswith("PASS"), run.stderr
    values, pcm = GoldenModel(graph).vocode(mel, seed=7, temperature=0.8)
    np.testing.assert_array_equal(np.fromfile(project / "h.f32", np.float32), values)
    np.testing.assert_array_equal(np.fromfile(project / "out.pcm", np.int16), pcm)

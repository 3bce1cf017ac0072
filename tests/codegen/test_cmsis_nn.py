"""--cmsis-nn: dense int8 convolutions call Arm's CMSIS-NN kernels, bit-exact with the golden
model on the host and on emulated Cortex-M cores, in both rounding modes.

Tests that build against real CMSIS-NN code run only when WNCC_CMSIS_NN names a checkout; the
others (the error for a bad path, the exactness bound, which layers are offloaded and what the
project stores) use a stand-in folder with the files the backend looks for."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from wncc import cmsis_nn
from wncc.arith.params import ConvQ
from wncc.compiler import compile_model, prepare
from wncc.errors import WnccError

ROOT = Path(__file__).resolve().parent.parent.parent
TINY = ROOT / "examples" / "models" / "tiny.onnx"
CLIP = ROOT / "examples" / "data" / "test_clip.wav"
CHECKOUT = os.environ.get("WNCC_CMSIS_NN")
needs_checkout = pytest.mark.skipif(not CHECKOUT, reason="WNCC_CMSIS_NN names no CMSIS-NN checkout")
STRICT = "-O1 -Werror -pedantic -Wshadow -Wconversion -Wno-sign-conversion -Wstrict-prototypes"


@pytest.fixture(scope="module")
def int8_model(shipped_quantized) -> Path:
    return shipped_quantized("int8")


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    from wncc.audio import read_wav

    return read_wav(CLIP)


@pytest.fixture
def stand_in(tmp_path) -> Path:
    """A folder with the files wncc checks for (no code: nothing is built from it)."""
    root = tmp_path / "cmsis-nn"
    (root / "Include").mkdir(parents=True)
    (root / cmsis_nn.HEADER).write_text(" * $Date:        1 May 2024\n * $Revision:    V.9.9.9\n"
                                        "arm_cmsis_nn_status arm_convolve_1x1_s8_fast(void);\n")
    for src in cmsis_nn.SOURCES:
        (root / src).parent.mkdir(parents=True, exist_ok=True)
        (root / src).write_text("")
    return root


def test_bad_path_is_a_one_line_error_exit_2(tmp_path):
    out = tmp_path / "proj"
    proc = subprocess.run([sys.executable, "-m", "wncc.cli", "compile", str(TINY), "--cmsis-nn",
                           str(tmp_path / "nowhere"), "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "not a CMSIS-NN checkout: no Include/arm_nnfunctions.h" in proc.stderr
    assert str(tmp_path / "nowhere") in proc.stderr and not out.exists()


def test_checkout_without_the_kernel_sources_is_refused(stand_in):
    (stand_in / cmsis_nn.SOURCES[1]).unlink()
    with pytest.raises(WnccError, match="lacks Source/NNSupportFunctions/arm_nn_mat_mult_nt_t"):
        cmsis_nn.checkout(stand_in)


def test_exactness_bound():
    w = np.full((2, 4, 1), 127, np.int64)
    q = ConvQ(w, np.zeros(2, np.int64), np.ones(2, np.int64), np.array([0, 0]), 0, 0, 8)
    assert cmsis_nn.exact(q)  # 128 * 508 * 2 < 2^31
    q = replace(q, bias=np.array([0, 2 ** 30 - 128 * 508]))  # bound 2^30, doubled: 2^31
    assert not cmsis_nn.exact(q)
    q = replace(q, bias=np.array([0, 2 ** 29]))
    assert cmsis_nn.exact(q)
    q = replace(q, shift=np.array([0, 1]))  # one more left shift of the accumulator
    assert not cmsis_nn.exact(q)


def test_offloaded_layers_tables_and_report(int8_model, stand_in, tmp_path):
    graph, _ = prepare(int8_model, dtype="int8", cmsis_nn=stand_in,
                       sparse=["layers.0.res=csr"])
    convs = [n for n in graph.nodes if n.op in ("conv", "conv_ring")]
    sparse = [n for n in convs if n.attrs.get("cmsis_nn_reason")]
    assert [n.attrs["label"] for n in sparse] == ["layers.0.res"]
    assert "sparse storage" in sparse[0].attrs["cmsis_nn_reason"]
    from wncc.codegen.project import render
    from wncc.targets import load

    files = render(graph, load("host"), "test")
    # the frame and sample programs (wn_sample_program_batch repeats the sample program's calls)
    model_c = files["wn_model.c"].split("static void wn_sample_program_batch")[0]
    assert model_c.count("wn_cmsis_conv_s8(") == len(convs) - 1
    assert "wn_conv_s8(" not in model_c and "wn_conv_ring_s8(" not in model_c
    assert model_c.count("wn_ring_gather_s8(") == len(graph.ops("conv_ring"))
    assert "wn_cmsis_s8.c" in files and "wn_conv_s8.c" not in files
    make = files["Makefile"]
    assert f"CMSIS_NN ?= {stand_in.resolve()}" in make
    assert "CMSIS_NN_DEFS = -DCMSIS_NN_USE_SINGLE_ROUNDING\n" in make  # the default rounding
    for src in cmsis_nn.SOURCES:
        assert f"$(CMSIS_NN)/{src}" in make and f"{src}" in files["CMakeLists.txt"]
    weights = files["wn_weights.h"]
    head2 = graph.node(next(n.name for n in convs if n.attrs["label"] == "head2"))
    assert f"static const int32_t WN_HEAD2_MULT[{head2.attrs['q'].w.shape[0]}]" in weights
    assert "WN_HEAD2_RQ" not in weights and "WN_LAYERS_0_RES_RQ" in weights
    report = json.loads(files["report.json"])
    assert report["cmsis_nn"]["path"] == str(stand_in.resolve())
    assert report["cmsis_nn"]["version"] == "V.9.9.9 (1 May 2024)"
    assert len(report["cmsis_nn"]["layers"]) == len(convs) - 1
    layer = next(x for x in report["layers"] if x["label"] == "head2")
    cout, cin = head2.attrs["q"].w.shape[:2]
    assert layer["cmsis_nn"] == "arm_convolve_1x1_s8_fast" and layer["kernel"] == 1
    assert layer["scale_bytes"] == 8 * cout and layer["params_bytes"] == 0  # int32 mult + shift
    assert layer["weight_bytes"] == cout * cin and layer["bias_bytes"] in (0, 4 * cout)
    assert report["memory_bytes"]["scratch"] > 0  # the gathered taps of the ring convolutions
    single, _ = prepare(int8_model, dtype="int8", rounding="single", cmsis_nn=stand_in)
    make = render(single, load("host"), "t")["Makefile"]
    assert "CMSIS_NN_DEFS = -DCMSIS_NN_USE_SINGLE_ROUNDING" in make


def test_float_and_16_bit_layers_stay_on_wncc_kernels(stand_in, tmp_path):
    graph, project = compile_model(TINY, tmp_path / "p", cmsis_nn=stand_in)
    assert not any(n.attrs.get("cmsis_nn") for n in graph.nodes)
    assert "CMSIS_NN" not in (project / "Makefile").read_text()
    assert json.loads((project / "report.json").read_text())["cmsis_nn"]["layers"] == []


# ------------------------------------------------------------------ with a real CMSIS-NN checkout

def _golden_equal(graph, project: Path, frames: int = 12) -> int:
    """Values of the teacher-forced logits where the C differs from the golden model."""
    from wncc.golden.model import GoldenModel
    from wncc.harness import CModel

    rng = np.random.default_rng(3)
    mel = rng.standard_normal((frames, graph.n_mels)).astype(np.float32)
    x = rng.integers(0, graph.classes, frames * graph.hop)
    c = CModel(project).teacher_forced(x, mel)
    return int(np.count_nonzero(c != GoldenModel(graph).teacher_forced(x, mel)))


@needs_checkout
@pytest.mark.parametrize("rounding", ["double", "single"])
def test_host_bit_exact_and_calls_cmsis_nn(int8_model, clip, rounding, tmp_path):
    from wncc.verify import verify

    report = verify(int8_model, project=tmp_path / "p", dtype="int8", rounding=rounding,
                    seconds=0.5, golden_samples=1000, audio=clip, cmsis_nn=CHECKOUT)
    checks = {c.name: c for c in report.checks}
    for name in ("logits_vs_golden", "samples_vs_golden", "streaming_golden_vs_c"):
        assert checks[name].passed, checks[name]
    project = tmp_path / "p"
    model_c = (project / "wn_model.c").read_text()
    assert "wn_cmsis_conv_s8(" in model_c and "wn_conv_s8(" not in model_c
    nm = subprocess.run(["nm", "-g", str(project / "libwn.so")], capture_output=True, text=True,
                        check=True).stdout
    defined = {line.split()[-1] for line in nm.splitlines() if " T " in line}
    assert {"arm_convolve_1x1_s8_fast", "arm_nn_mat_mult_nt_t_s8", "wn_cmsis_conv_s8"} <= defined
    assert "wn_conv_s8" not in defined and "wn_conv_ring_s8" not in defined


@needs_checkout
def test_cmsis_nn_rounded_the_other_way_is_caught(int8_model, tmp_path):
    """The same project with CMSIS-NN's kernels built for single rounding differs from the
    golden model: the bit-exact comparison sees the rounding, and the adapter refuses the mix."""
    graph, project = compile_model(int8_model, tmp_path / "p", dtype="int8", cmsis_nn=CHECKOUT)
    assert _golden_equal(graph, project) == 0
    for name in (project / "libwn.so", *project.glob("*.o")):
        name.unlink()
    for src in cmsis_nn.SOURCES:  # prebuilt: make takes them as up to date
        subprocess.run(["cc", "-std=c99", "-O2", "-w", "-fPIC", f"-I{CHECKOUT}/Include",
                        "-DCMSIS_NN_USE_SINGLE_ROUNDING", "-c", "-o",
                        str(project / f"cmsis_{Path(src).stem}.pic.o"), f"{CHECKOUT}/{src}"],
                       check=True)
    assert _golden_equal(graph, project) > 0
    proc = subprocess.run(["make", "-C", str(project), "wn_cmsis_s8.o",
                           "CMSIS_NN_DEFS=-DCMSIS_NN_USE_SINGLE_ROUNDING"],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "disagree on the rounding" in proc.stderr


@needs_checkout
@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_builds_warning_free(int8_model, tmp_path, cc):
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} not installed")
    _, project = compile_model(int8_model, tmp_path / "p", dtype="int8", cmsis_nn=CHECKOUT)
    proc = subprocess.run(["make", "-C", str(project), f"CC={cc}", f"CFLAGS={STRICT}"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr


@needs_checkout
@pytest.mark.parametrize("name, marker", [("cortex-m55", "wlstp"), ("cortex-m4", "smlad")])
def test_emulated_cortex_m_bit_exact(int8_model, clip, name, marker, tmp_path):
    from wncc import targets
    from wncc.emulate import require_tools
    from wncc.verify import verify

    target = targets.load(name)
    try:
        require_tools(target)
    except WnccError as exc:
        pytest.skip(str(exc))
    project = tmp_path / "p"
    report = verify(int8_model, project=project, target=name, dtype="int8", audio=clip,
                    logit_samples=800, golden_samples=400, cmsis_nn=CHECKOUT)
    checks = {c.name: c for c in report.checks}
    for check in ("logits_vs_golden", "samples_vs_golden", "streaming_golden_vs_c"):
        assert checks[check].passed, checks[check]
    dis = subprocess.run([target.objdump, "-d", str(project / "wn_vocode")], capture_output=True,
                         text=True, check=True).stdout
    body = dis.split("<arm_nn_mat_mult_nt_t_s8>:", 1)[1].split("\n\n", 1)[0]
    assert marker in body  # CMSIS-NN's Helium (tail-predicated loops) / DSP code
    assert "<wn_cmsis_conv_s8>:" in dis and "<wn_conv_s8>:" not in dis

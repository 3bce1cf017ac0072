"""The compression study on the trained tiny: real numbers, exact C, monotone compression, quality
by the MLPerf 99 % rule against the dense fp32 model, the headline, plots, parallel variants."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from wncc import study
from wncc.errors import WnccError
from wncc.mlperf.accuracy import THRESHOLDS, verdicts

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


@pytest.fixture(scope="module")
def pruned90(tmp_path_factory) -> Path:
    return _pruned(tmp_path_factory.mktemp("pruned"), 0.9)


@pytest.fixture(scope="module")
def sweep(pruned90) -> study.Study:
    """tiny and its 90 % one-shot pruning at fp32 and int8, in this process."""
    return study.run([TINY, pruned90], ["fp32", "int8"], CLIP, seconds=0.5)


@pytest.fixture(scope="module")
def per_tensor(pruned90) -> study.Study:
    """int8 with per-tensor scales only, the dense model second in the list."""
    return study.run([pruned90, TINY], ["int8"], CLIP, seconds=0.5, per_channel=False)


def _unclocked(rows: list[study.Row]) -> list[study.Row]:
    return [dataclasses.replace(r, seconds=0.0) for r in rows]


def test_study_rows(sweep):
    rows = sweep.rows
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
    assert sweep.speech is None  # generated only when asked (for the report)


def test_quality_and_verdict_from_real_nlls(sweep):
    """The reference is the dense fp32 row; every row's quality is reference NLL / its NLL, and
    90 % one-shot pruning without fine-tuning fails the 99 % rule."""
    dense32, dense8, sparse32, sparse8 = sweep.rows
    assert sweep.reference == dense32
    ref = dense32.nll_bits
    assert dense32.quality == 1.0 and dense32.verdict == {"99%": "PASS", "99.9%": "PASS"}
    assert dense8.quality == ref / dense8.nll_bits
    assert dense8.verdict == {name: "PASS" if ref / dense8.nll_bits >= t else "FAIL"
                              for name, t in THRESHOLDS.items()}
    for sparse in (sparse32, sparse8):
        assert sparse.quality == ref / sparse.nll_bits < 0.99
        assert sparse.verdict == {"99%": "FAIL", "99.9%": "FAIL"}
    line = next(x for x in study.markdown(sweep.rows).splitlines() if "| tiny | dense |" in x
                and "| int8 |" in x)
    assert line.endswith(f"| {dense8.quality:.4f} | {dense8.verdict['99%']} | "
                         f"{dense8.verdict['99.9%']} | yes |")


def test_summary_names_the_reference_and_the_headline(sweep):
    for name, t in THRESHOLDS.items():
        passing = [r for r in sweep.rows if r.quality >= t]
        best = max(passing, key=lambda r: r.compression_ratio)
        assert (f"largest compression at >= {name} of fp32 quality: "
                f"{best.compression_ratio:.2f}x ({study.variant(best)})") in study.summary(sweep)
    assert study.summary(sweep)[0] == (f"reference: tiny at fp32, NLL "
                                       f"{sweep.reference.nll_bits:.4f} bits/sample")


def test_reference_is_studied_at_fp32_when_not_requested(per_tensor, sweep):
    """The first dense model of the list, though second, at fp32, though only int8 was asked."""
    assert [(r.model, r.dtype) for r in per_tensor.rows] == [
        ("tiny-oneshot-unstructured-layer-s90", "int8"), ("tiny", "int8")]
    assert _unclocked([per_tensor.reference]) == _unclocked([sweep.reference])
    assert [r.quality for r in per_tensor.rows] == [
        sweep.reference.nll_bits / r.nll_bits for r in per_tensor.rows]


def test_per_tensor_rows_store_less(per_tensor, sweep):
    """One weight scale per tensor: one requantization pair per layer instead of one per
    channel, so more compression; the C stays exact."""
    pc, pt = sweep.rows[3], per_tensor.rows[0]
    assert pt.weight_scales == "per-tensor" and pt.exact
    assert pt.compression_ratio > pc.compression_ratio


def test_no_dense_model_no_reference(pruned90):
    with pytest.raises(WnccError, match=r"no dense model to take the fp32 reference from.*"
                       r"--reference MODEL.onnx"):
        study.run([pruned90], ["int8"], CLIP, seconds=0.5)


@pytest.mark.long  # --jobs 2 also runs in the default suite: tests/test_study_report.py
def test_jobs_give_the_serial_rows(pruned90, sweep):
    parallel = study.run([TINY, pruned90], ["fp32", "int8"], CLIP, seconds=0.5, jobs=2)
    assert _unclocked(parallel.rows) == _unclocked(sweep.rows)
    assert _unclocked([parallel.reference]) == _unclocked([sweep.reference])


@pytest.mark.long
def test_ray_gives_the_serial_rows(pruned90, sweep):
    """The variants as tasks on a local Ray instance (the cluster extra): the serial rows."""
    pytest.importorskip("ray")
    on_ray = study.run([TINY, pruned90], ["fp32", "int8"], CLIP, seconds=0.5, ray="local")
    assert _unclocked(on_ray.rows) == _unclocked(sweep.rows)
    import ray

    assert not ray.is_initialized()  # the study shut down the instance it started
    with pytest.raises(WnccError, match="give one"):
        study.run([TINY], ["fp32"], CLIP, seconds=0.5, ray="local", jobs=2)


def _row(model: str, compression: float, quality: float) -> study.Row:
    return study.Row(model=model, method="iterative", pattern="b4x4", sparsity=0.9, dtype="int8",
                     weight_scales="per-tensor", compression_ratio=compression, weights_bytes=0,
                     storage={}, nll_bits=4.0 / quality, exact=True, seconds=0.0,
                     quality=quality, verdict=verdicts(quality))


def test_headline_picks_the_largest_passing_compression():
    """Of equal compressions the best quality wins, of equal rows the first."""
    a, b, c, d, e, f = (_row("a", 1.0, 1.0), _row("b", 3.0, 0.9995), _row("c", 6.0, 0.995),
                        _row("d", 6.0, 0.997), _row("e", 6.0, 0.997), _row("f", 8.0, 0.5))
    rows = [a, b, c, d, e, f]
    assert study.pareto(rows) == [a, b, d, f]
    assert study.headline(rows) == {"99%": d, "99.9%": b}
    assert study.headline([f]) == {"99%": None, "99.9%": None}
    assert study.summary(study.Study(a, [f]))[1:] == [
        "largest compression at >= 99% of fp32 quality: none",
        "largest compression at >= 99.9% of fp32 quality: none"]
    assert study.to_json(study.Study(a, rows))["headline"]["99%"]["model"] == "d"


def test_plots_are_pngs(sweep, tmp_path):
    imread = pytest.importorskip("matplotlib.image").imread
    paths = study.plots(sweep.rows, tmp_path / "plots")
    assert [p.name for p in paths] == ["study_quality.png", "study_pareto.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert imread(path).shape == (450, 1000, 4)  # 10 x 4.5 inches at 100 dpi, RGBA


def _wncc(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wncc.cli", "study", *map(str, args)],
                          capture_output=True, text=True)


def test_cli_json_and_missing_reference(pruned90, tmp_path):
    out = tmp_path / "study.json"
    proc = _wncc(pruned90, "--dtype", "int8", "--data", CLIP, "--seconds", "0.5", "--reference",
                 TINY, "--json", out)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert sorted(result) == ["headline", "reference", "rows"]
    assert (result["reference"]["model"], result["reference"]["dtype"]) == ("tiny", "fp32")
    (row,) = result["rows"]
    assert row["quality"] == result["reference"]["nll_bits"] / row["nll_bits"] < 0.99
    assert row["verdict"] == {"99%": "FAIL", "99.9%": "FAIL"}
    assert result["headline"] == {"99%": None, "99.9%": None}
    assert "largest compression at >= 99% of fp32 quality: none" in proc.stdout
    proc = _wncc(pruned90, "--dtype", "int8", "--data", CLIP)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("wncc: error: no dense model to take the fp32 reference from")


@pytest.mark.slow
def test_full_tiny_study(tmp_path):
    """A sweep over sparsity levels and four precisions (run: pytest -m slow)."""
    models = [_pruned(tmp_path, s) for s in (0.5, 0.7, 0.8, 0.9, 0.95)]
    rows = study.run([TINY, *models], ["fp32", "int8", "int4", "int16x8"], CLIP, seconds=1.0).rows
    assert all(r.exact for r in rows)
    int8 = [r.compression_ratio for r in rows if r.dtype == "int8"]
    assert int8 == sorted(int8)


def test_describe_measures_a_pruned_file_named_plainly(tmp_path):
    """A file without the naming tags is judged by its convolution weights' zeros, so a pruned
    model named plainly is neither labelled dense nor taken as the fp32 reference."""
    from onnx import helper

    def model(path: Path, w: np.ndarray) -> Path:
        graph = helper.make_graph(
            [helper.make_node("Conv", ["x", "w"], ["y"])], "g",
            [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4, 8])],
            [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4, 8])],
            [numpy_helper.from_array(w.astype(np.float32), "w")])
        onnx.save(helper.make_model(graph), str(path))
        return path

    w = np.arange(1, 33, dtype=np.float32).reshape(4, 4, 2)
    dense = model(tmp_path / "mine.onnx", w)
    w[:2] = 0.0  # half the weights
    pruned = model(tmp_path / "mine-small.onnx", w)
    assert study.describe(dense) == ("dense", "-", 0.0)
    assert study.describe(pruned) == ("pruned", "-", 0.5)
    assert study.reference_model([pruned, dense]) == dense

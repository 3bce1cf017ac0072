"""`wncc bench --model M`: M's C on every native target against ONNX Runtime's teacher-forced
pass and (float models) its one-step graph, in one run (the outputs of the builds must be
identical)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wncc.bench.native import markdown, measure, runnable
from wncc.cli import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "models" / "tiny.onnx"


def test_every_runnable_target_times_the_same_samples(shipped_quantized):
    targets = runnable()
    assert [t.name for t in targets][:1] == ["host"]  # the portable build runs everywhere
    row = measure(shipped_quantized("int8"), "int8", targets, samples=800, repeats=1)
    assert set(row.c_us_per_sample) == {t.name for t in targets}
    assert all(us > 0 for us in row.c_us_per_sample.values()) and row.ort_tf_us_per_sample > 0
    assert row.ratios["host"] == pytest.approx(row.c_us_per_sample["host"]
                                               / row.ort_tf_us_per_sample, abs=1e-3)
    assert row.macs_per_sample > 0 and row.samples == 800
    assert row.ort_step_us_per_sample is None  # an integer model has no one-step peer
    assert "| tiny" in markdown([row])


def test_cli_writes_json(tmp_path):
    out = tmp_path / "speed.json"
    assert main(["bench", "--model", str(TINY), "--native", "host", "--samples", "400",
                 "--repeats", "1", "--batch", "2", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert list(data["c_us_per_sample"]) == ["host"] and data["dtype"] == "fp32"
    assert set(data["c_over_ort_tf"]) == {"host"}
    # the float model's one-step graph, checked against the model, is timed beside the C (the
    # figures are compared in benchmarks, not here)
    assert data["ort_step_us_per_sample"] > 0
    # two streams generated together (stream 0 checked equal to the single run), per stream
    assert data["batch"] == 2 and set(data["c_batch_us_per_sample"]) == {"host"}
    assert data["batch_gain"]["host"] == pytest.approx(
        data["c_us_per_sample"]["host"] / data["c_batch_us_per_sample"]["host"], abs=1e-3)


def test_batch_below_one_is_refused(capsys):
    assert main(["bench", "--model", str(TINY), "--native", "host", "--batch", "0"]) == 2
    assert "--batch 0" in capsys.readouterr().err


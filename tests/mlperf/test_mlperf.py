"""wncc mlperf on the shipped tiny model with the real LoadGen (quick settings, 0.05-0.1 s
excerpts of the shipped clip): every scenario on the C in fp32 and int8, SingleStream and Offline
on ONNX Runtime, accuracy mode with the 99 % verdict from real scores, the target estimate's
arithmetic, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mlperf_loadgen")

from wncc.errors import WnccError  # noqa: E402
from wncc.mlperf import accuracy, estimate, report  # noqa: E402
from wncc.mlperf.benchmark import Options, rescore, run  # noqa: E402
from wncc.mlperf.command import main  # noqa: E402
from wncc.mlperf.qsl import Library, excerpts  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "models" / "tiny.onnx"
CLIP = ROOT / "examples" / "data" / "test_clip.wav"


def opts(tmp_path: Path, name: str, **kw) -> Options:
    base = dict(model=str(TINY), data=str(CLIP), output=str(tmp_path / name), quick=True,
                seconds=0.1, samples=16)
    return Options(**{**base, **kw})


@pytest.fixture(scope="module")
def tiny_int8(shipped_quantized) -> Path:
    return shipped_quantized("int8")


def test_library_cuts_the_clip_and_really_loads(tmp_path):
    items = excerpts(CLIP, "test", 0.5, 0)
    assert len(items) == 5 and all(e.length == 8000 for e in items)
    assert [e.start for e in items] == [0, 8000, 16000, 24000, 32000]
    lib = Library(items)
    lib.load([1, 3])
    assert sorted(lib.loaded) == [1, 3] and lib[1].mel.shape == (40, 80)
    lib.unload([1])
    assert sorted(lib.loaded) == [3]


@pytest.mark.parametrize("dtype", [pytest.param("fp32", marks=pytest.mark.long), "int8"])
def test_every_scenario_on_the_c(tmp_path, tiny_int8, dtype):
    model = TINY if dtype == "fp32" else tiny_int8
    result = run(opts(tmp_path, "c", model=str(model), seconds=0.05, server_steps=2))
    assert result["model"]["dtype"] == dtype
    out = tmp_path / "c"
    sc = result["backends"]["c"]["scenarios"]
    assert sc["SingleStream"]["validity"] == "VALID"
    assert sc["Offline"]["validity"] == "VALID"
    assert sc["MultiStream"]["validity"] in ("VALID", "INVALID")
    assert sc["MultiStream"]["settings"]["samples_per_query"] == 8
    assert len(sc["Server"]["runs"]) == 2 and (sc["Server"]["max_valid_qps"] is None or
                                     sc["Server"]["best"]["validity"] == "VALID")
    ss = sc["SingleStream"]
    assert ss["latency_s"] > 0 and ss["realtime_factor"] == pytest.approx(ss["latency_s"] / 0.05)
    assert ss["time_to_first_audio_s"]["p50"] > result["lookahead_s"] == 0.0125
    assert sc["Offline"]["audio_samples_per_s"] > 0
    for scenario in ("SingleStream", "MultiStream", "Offline"):
        assert "Result is" in (out / "c" / scenario / "mlperf_log_summary.txt").read_text()
    assert json.loads((out / "mlperf.json").read_text())["qsl"]["excerpts"] == 16
    assert (out / "mlperf.png").read_bytes()[:4] == b"\x89PNG"
    assert len(report.rows(result)) == 4


def test_ort_single_stream_and_offline(tmp_path):
    scen = ("SingleStream", "Offline")
    ort = run(opts(tmp_path, "ort", backends=("ort",), scenarios=scen, seconds=0.05))
    assert "lower bound" in ort["backends"]["ort"]["measures"]
    assert "lower bound" in report.rows(ort)[0][0]
    for s in scen:
        assert ort["backends"]["ort"]["scenarios"][s]["validity"] == "VALID", s


@pytest.mark.filterwarnings("ignore:Not enough STFT frames")  # STOI of 0.1 s excerpts
def test_accuracy_verdict_from_real_scores(tmp_path):
    result = run(opts(tmp_path, "acc", mode="accuracy", dtype="int8", calib=str(CLIP),
                      samples=6))
    acc = result["accuracy"]
    log = accuracy.read_log(tmp_path / "acc" / "accuracy" / "mlperf_log_accuracy.json")
    assert sorted(log) == list(range(6)) and all(len(v) == 1600 for v in log.values())
    model, fp32 = acc["scores"]["nll_bits"], acc["reference"]["scores"]["nll_bits"]
    assert 2.0 < fp32 < 8.0 and 2.0 < model < 8.0 and model != fp32
    v = acc["verdict"]["metrics"]["nll_bits"]
    assert v["fraction"] == pytest.approx(fp32 / model)
    assert acc["verdict"]["99%"] == ("PASS" if fp32 / model >= 0.99 else "FAIL")
    assert acc["verdict"]["99.9%"] == ("PASS" if fp32 / model >= 0.999 else "FAIL")
    mcd = acc["verdict"]["metrics"]["mcd_db"]
    assert mcd["fraction"] == pytest.approx(mcd["fp32"] / mcd["model"])
    again = rescore(tmp_path / "acc")  # scoring is deterministic
    assert again["accuracy"]["scores"]["nll_bits"] == model
    assert again["accuracy"]["verdict"]["99%"] == acc["verdict"]["99%"]


def test_verdict_directions():
    ref = {"nll_bits": 4.0, "stoi": 0.5, "mcd_db": 10.0}
    v = accuracy.verdict({"nll_bits": 4.02, "stoi": 0.5, "mcd_db": 9.0}, ref)
    assert v["metrics"]["nll_bits"]["fraction"] == pytest.approx(4.0 / 4.02)
    assert (v["99%"], v["99.9%"]) == ("PASS", "FAIL")
    assert v["metrics"]["stoi"]["fraction"] == 1.0
    assert v["metrics"]["mcd_db"]["fraction"] == pytest.approx(10 / 9)


def test_target_estimate_arithmetic(monkeypatch):
    from wncc.bench import target

    def fake(model, target_name, dtype, frames, mel):
        assert frames == 1 and mel.shape == (8, 80)
        return target.TargetBench(target_name, "tiny.onnx", dtype, 200, 200 * 160_000, 160_000.0,
                                  10.0, 1, 1, 480_000_000, None, "qemu")

    monkeypatch.setattr(target, "bench", fake)
    lib = Library(excerpts(CLIP, "test", 0.1, 4))
    est = estimate.single_stream(TINY, "cortex-m7", "int8", lib)
    assert est["estimate"] and "estimate" in est["measures"]
    assert est["latency_s"] == pytest.approx(1600 * 160_000 / 480e6)
    assert est["realtime_factor"] == pytest.approx(16000 * 160_000 / 480e6)
    assert est["time_to_first_audio_s"]["p50"] == pytest.approx(0.0125 + 200 * 160_000 / 480e6)


def test_bad_input_is_one_line(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_text("not a model")
    cases = [opts(tmp_path, "a", scenarios=("Bogus",)),
             opts(tmp_path, "b", data=str(tmp_path / "missing.wav")),
             opts(tmp_path, "c", model=str(bad)),
             opts(tmp_path, "d", backends=("cortex-z9",)),
             opts(tmp_path, "e", mode="accuracy", backends=("ort",)),
             opts(tmp_path, "f", dtype="int8")]  # a float model without --calib
    for o in cases:
        with pytest.raises(WnccError) as exc:
            run(o)
        assert "\n" not in str(exc.value)
    with pytest.raises(WnccError, match="unknown scenario"):
        main(["mlperf", str(TINY), "--data", str(CLIP), "--scenario", "Bogus",
              "-o", str(tmp_path / "g")])
    np.testing.assert_equal(sorted(p.name for p in tmp_path.iterdir()), ["bad.onnx"])

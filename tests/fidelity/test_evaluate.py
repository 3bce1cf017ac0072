"""Fidelity evaluation of the compiled C on held-out speech: deterministic for a fixed seed, the
baselines ordered as expected, the C's teacher-forced NLL equal to ONNX Runtime's, the JSON
schema, one-line errors and the command."""

from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from wncc.errors import WnccError
from wncc.fidelity import evaluate as ev
from wncc.fidelity.metrics import nll_bits

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "examples" / "data" / "test_clip.wav"
TINY = ROOT / "examples" / "models" / "tiny.onnx"
SECONDS = 0.75  # 60 frames: the whole module runs in a few seconds


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    from wncc.compiler import compile_model

    _, out = compile_model(TINY, tmp_path_factory.mktemp("fidelity") / "tiny")
    return out


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> tuple[dict, Path]:
    path = tmp_path_factory.mktemp("json") / "tiny.json"
    return ev.evaluate(TINY, CLIP, seconds=SECONDS, seed=3, json_path=path), path


def test_deterministic_for_a_fixed_seed(result, project, tmp_path):
    res, path = result
    # the same C from the project folder, and a wav folder instead of a single file
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(CLIP, folder / CLIP.name)
    again = ev.evaluate(project, folder, seconds=SECONDS, seed=3)
    assert again["summary"] == res["summary"]
    assert again["utterances"] == res["utterances"]
    ev.write_json(ev.evaluate(TINY, CLIP, seconds=SECONDS, seed=3), tmp_path / "b.json")
    assert (tmp_path / "b.json").read_bytes() == path.read_bytes()
    other = ev.evaluate(project, CLIP, seconds=SECONDS, seed=4)
    assert other["summary"]["model"]["stoi"] != res["summary"]["model"]["stoi"]
    # sampling does not touch teacher forcing or the baselines
    assert other["summary"]["model"]["nll_bits"] == res["summary"]["model"]["nll_bits"]
    assert other["summary"]["ceiling"] == res["summary"]["ceiling"]
    assert other["summary"]["griffin_lim"] == res["summary"]["griffin_lim"]


def test_ceiling_beats_griffin_lim(result):
    s = result[0]["summary"]
    assert s["ceiling"]["stoi"] > s["griffin_lim"]["stoi"]
    assert s["ceiling"]["pesq_wb"] > s["griffin_lim"]["pesq_wb"]
    assert s["ceiling"]["lsd_db"] < s["griffin_lim"]["lsd_db"]
    assert s["ceiling"]["nll_bits"] is None and s["griffin_lim"]["nll_bits"] is None


def test_nll_equals_onnxruntime(result):
    from wncc.verify import onnxruntime_logits

    (u,) = ev.load_utterances(CLIP, seconds=SECONDS)
    assert len(u.audio) == int(SECONDS * 16000) and u.mel.shape == (len(u.audio) // 200, 80)
    assert u.x[0] == 128 and np.array_equal(u.x[1:], u.target[:-1])
    ort = nll_bits(onnxruntime_logits(TINY, u.x, u.mel).T, u.target)
    model = result[0]["summary"]["model"]["nll_bits"]
    assert model == pytest.approx(ort, abs=1e-3)
    assert 2.0 < model < result[0]["unigram_bits"]


def test_json_schema(result):
    res, path = result
    assert json.loads(path.read_text()) == res
    assert res["schema"] == ev.SCHEMA
    assert set(res) == {"schema", "model", "data", "settings", "unigram_bits", "summary",
                        "utterances"}
    assert res["model"]["name"] == "tiny.onnx" and res["model"]["dtype"] == "fp32"
    assert res["model"]["kind"] == "onnx" and len(res["model"]["sha256"]) == 64
    assert res["data"] == {"source": CLIP.name, "split": None, "max_utterances": 20,
                           "max_seconds": SECONDS, "utterances": 1,
                           "samples": int(SECONDS * 16000), "seconds": SECONDS}
    assert res["settings"]["seed"] == 3 and res["settings"]["temperature"] == 1.0
    assert set(res["summary"]) == set(ev.ROWS)
    for row in ev.ROWS:
        s = res["summary"][row]
        assert set(s) == {"nll_bits", *ev.METRICS, "missing"} and s["missing"] == {}
        assert all(isinstance(s[k], float) and math.isfinite(s[k]) for k in ev.METRICS)
    (utt,) = res["utterances"]
    assert utt["name"] == CLIP.stem and utt["samples"] == res["data"]["samples"]
    for row in ev.ROWS:
        assert set(utt[row]) == {"nll_bits", *ev.METRICS}
        for k in ev.METRICS:  # one utterance: the summary is that utterance
            assert utt[row][k] == res["summary"][row][k]
    table = ev.markdown_table({"tiny": res})
    assert table.count("\n") == 4 and "| tiny | " in table and "| mu-law ceiling | — |" in table


def test_corpus_split_and_limits(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "wav").mkdir(parents=True)
    utts = []
    for i, split in enumerate(["train", "test", "test", "test"]):
        shutil.copy(CLIP, corpus / "wav" / f"{i:05d}.wav")
        utts.append({"id": f"{i:05d}", "path": f"wav/{i:05d}.wav", "split": split})
    (corpus / "manifest.json").write_text(json.dumps({"utterances": utts}))
    got = ev.load_utterances(corpus, "test", utterances=2, seconds=0.1)
    assert [u.name for u in got] == ["00001", "00002"]
    assert all(len(u.audio) == 1600 for u in got)
    whole = ev.load_utterances(corpus, "train", utterances=0, seconds=0)
    assert len(whole) == 1 and len(whole[0].audio) == 46600 // 200 * 200
    with pytest.raises(WnccError, match="no utterances in split 'dev'"):
        ev.load_utterances(corpus, "dev")


@pytest.mark.parametrize("kwargs, message", [
    ({"data": "missing-folder"}, "evaluation data not found"),
    ({"data": TINY}, "must be a .wav file"),
    ({"model": "missing.onnx"}, "model not found"),
    ({"model": ROOT / "examples"}, "not a wncc project folder"),
    ({"temperature": -1.0}, "--temperature must be"),
    ({"seed": -1}, "--seed must be"),
    ({"seconds": 0.001}, "no utterance of at least 200 samples"),
])
def test_bad_input_is_one_line(kwargs, message):
    args = {"model": TINY, "data": CLIP, "seconds": SECONDS, **kwargs}
    with pytest.raises(WnccError, match=message) as exc:
        ev.evaluate(args.pop("model"), args.pop("data"), **args)
    assert "\n" not in str(exc.value)


def test_command(project, tmp_path, capsys):
    from wncc.fidelity import command

    ap = argparse.ArgumentParser(prog="wncc")
    command.register(ap.add_subparsers(dest="command"))
    out = tmp_path / "out" / "f.json"
    argv = ["fidelity", str(project), "--data", str(CLIP), "--seconds", "0.5", "--json", str(out)]
    args = ap.parse_args(argv)
    assert args.func(args, argv) == 0
    text = capsys.readouterr().out
    for label in ("mu-law ceiling", "Griffin-Lim", project.name, "NLL", "PESQ", "STOI", "LSD",
                  "MCD"):
        assert label in text
    res = json.loads(out.read_text())
    assert res["model"]["kind"] == "project" and res["data"]["samples"] == 8000


def test_integer_model_logits_are_dequantized(tmp_path):
    from wncc.quant import quantize
    from wncc.verify import onnxruntime_logits

    q = quantize(TINY, "int8", CLIP, tmp_path / "int8.onnx", calib_crops=8)
    res = ev.evaluate(q, CLIP, seconds=0.5)
    assert res["model"]["dtype"] == "int8" and res["model"]["logits"] == "int8"
    (u,) = ev.load_utterances(CLIP, seconds=0.5)
    ort = nll_bits(onnxruntime_logits(q, u.x, u.mel, plain=True).T, u.target)
    # the C's integer arithmetic is within a step or so of ORT's float-simulated QDQ
    assert res["summary"]["model"]["nll_bits"] == pytest.approx(ort, abs=0.02)

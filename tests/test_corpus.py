"""Corpus plan (no espeak needed) and a tiny deterministic build (needs espeak-ng and sox)."""

import filecmp
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
spec = importlib.util.spec_from_file_location("corpus", EXAMPLES / "corpus.py")
corpus = importlib.util.module_from_spec(spec)
sys.modules["corpus"] = corpus
spec.loader.exec_module(corpus)


def test_plan_is_deterministic_prefix_and_split_by_sentence() -> None:
    big = corpus.plan(300, seed=0)
    assert corpus.plan(40, seed=0) == big[:40]
    assert corpus.plan(40, seed=1) != big[:40]
    texts = [u.text for u in big]
    assert len(set(texts)) == len(texts)
    by_split = {s: {u.text for u in big if u.split == s} for s in ("train", "validation", "test")}
    assert not by_split["test"] & by_split["train"]
    assert not by_split["validation"] & by_split["train"]
    assert len(by_split["test"]) == len(by_split["validation"]) == 30
    assert len({u.voice for u in big}) > 50  # accents x variants
    speeds = [u.speed for u in big]
    assert min(speeds) < 135 and max(speeds) > 195


@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                    reason="needs espeak-ng and sox")
def test_build_is_byte_identical_and_cached(tmp_path: Path) -> None:
    a = corpus.build(tmp_path / "a", minutes=0.05, batch=6)
    b = corpus.build(tmp_path / "b", minutes=0.05, batch=6)
    assert a == b and len(a["utterances"]) >= 6
    names = [u["path"] for u in a["utterances"]] + ["manifest.json"]
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", names,
                                               shallow=False)
    assert not mismatch and not errors
    wav = tmp_path / "a" / a["utterances"][0]["path"]
    mtime = wav.stat().st_mtime_ns
    corpus.build(tmp_path / "a", minutes=0.05, batch=6)
    assert wav.stat().st_mtime_ns == mtime  # cached, not rewritten
    with open(wav, "rb") as f:
        header = f.read(44)
    assert header[:4] == b"RIFF" and int.from_bytes(header[24:28], "little") == 16000

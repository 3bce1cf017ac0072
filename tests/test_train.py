"""Tests of examples/train.py: a smoke test on an espeak-ng corpus (slow: synthesises speech,
trains 30 steps) and fast tests on a synthetic corpus (resume across sessions, bf16)."""

import json
import shutil
import signal
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import torch

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))
import train  # noqa: E402  (examples/train.py)


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                    reason="needs espeak-ng and sox")
def test_train_resume_and_log(tmp_path: Path) -> None:
    data, out = tmp_path / "corpus", tmp_path / "run"
    subprocess.run([sys.executable, EXAMPLES / "corpus.py", "--out", data, "--minutes", "0.3"],
                   check=True)
    common = [sys.executable, EXAMPLES / "train.py", "--corpus", data, "--out", out,
              "--threads", "1", "--batch", "4", "--log-every", "5", "--val-every", "10",
              "--val-seconds", "2"]
    subprocess.run(common + ["--steps", "20"], check=True)
    subprocess.run(common + ["--steps", "30", "--resume"], check=True)
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    vals = [r for r in log if "val_bits" in r]
    assert [r["step"] for r in vals] == [10, 20, 30]
    assert vals[-1]["val_bits"] < 8.0 and 0 < vals[-1]["unigram_bits"] <= 8.0
    ck = torch.load(out / "last.pt", map_location="cpu", weights_only=False)
    assert ck["step"] == 30 and ck["config"]["residual_channels"] == 16
    assert {"model", "config", "step", "optimizer"} <= set(ck)


def _train(argv: list) -> None:
    """``python examples/train.py ARGV`` in this process (no interpreter and torch start-up per
    run); the thread count and signal handlers it sets are put back afterwards."""
    saved = sys.argv, torch.get_num_threads(), [(s, signal.getsignal(s))
                                                 for s in (signal.SIGTERM, signal.SIGINT)]
    sys.argv = ["train.py", *map(str, argv)]
    try:
        train.main()
    finally:
        sys.argv = saved[0]
        torch.set_num_threads(saved[1])
        for s, handler in saved[2]:
            signal.signal(s, handler)


def _synthetic_corpus(root: Path, seconds: float = 1.0) -> None:
    """Six utterances of noisy chirps (4 train, 1 validation, 1 test) and their manifest."""
    rng = np.random.default_rng(0)
    n = int(16000 * seconds)
    t = np.arange(n) / 16000
    utts = []
    for i, split in enumerate(["train"] * 4 + ["validation", "test"]):
        f0 = 100 + 40 * i + 200 * t
        audio = 0.3 * np.sin(2 * np.pi * np.cumsum(f0) / 16000) + 0.01 * rng.standard_normal(n)
        path = root / "wav" / f"{i:05d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
            w.writeframes((audio * 32767).astype("<i2").tobytes())
        utts.append({"id": f"{i:05d}", "path": f"wav/{i:05d}.wav", "split": split})
    (root / "manifest.json").write_text(json.dumps({"utterances": utts}))


def _log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def test_resume_continues_schedule_and_data(tmp_path: Path) -> None:
    """Two sessions (4 + 4 steps, --resume) train exactly like one 8-step session: same lr
    schedule position, same crops, same Adam state, hence the same losses."""
    data = tmp_path / "corpus"
    _synthetic_corpus(data)
    common = ["--corpus", data, "--threads", "1",
              "--batch", "2", "--log-every", "1", "--val-every", "100", "--val-seconds", "1"]
    _train(common + ["--out", tmp_path / "one", "--steps", "8"])
    split = common + ["--out", tmp_path / "two", "--decay-steps", "8"]
    _train(split + ["--steps", "4"])
    _train(split + ["--steps", "8", "--resume"])
    one = [r for r in _log(tmp_path / "one") if "train_bits" in r]
    two = [r for r in _log(tmp_path / "two") if "train_bits" in r]
    assert [r["step"] for r in two] == list(range(1, 9))
    assert [(r["lr"], r["train_bits"]) for r in two] == [(r["lr"], r["train_bits"]) for r in one]
    assert one[-1]["lr"] < one[0]["lr"]
    ck = torch.load(tmp_path / "two" / "last.pt", map_location="cpu", weights_only=False)
    assert ck["step"] == 8 and ck["decay"] == {"steps": 8, "minutes": 0.0}


def test_bf16_autocast_trains(tmp_path: Path) -> None:
    data, out = tmp_path / "corpus", tmp_path / "run"
    _synthetic_corpus(data)
    _train(["--corpus", data, "--out", out, "--threads", "1", "--batch", "2", "--log-every", "1",
            "--val-every", "3", "--val-seconds", "1", "--steps", "3", "--bf16"])
    log = _log(out)
    bits = [r["train_bits"] for r in log if "train_bits" in r]
    assert len(bits) == 3 and all(0 < b < 8.5 for b in bits)
    assert [r["val_bits"] for r in log if "val_bits" in r][0] < 8.5


def test_kept_checkpoint_resumes_on_a_fresh_machine(tmp_path: Path) -> None:
    """--keep writes a compact last.pt (bf16 Adam moments, the log inside); --resume in an
    empty --out (a fresh machine with only the repo) continues from it: same steps, lr schedule
    and crops, losses within bf16 rounding of one uninterrupted session."""
    data = tmp_path / "corpus"
    _synthetic_corpus(data)
    common = ["--corpus", data, "--threads", "1",
              "--batch", "2", "--log-every", "1", "--val-every", "4", "--val-seconds", "1"]
    _train(common + ["--out", tmp_path / "one", "--steps", "8"])
    kept = tmp_path / "repo" / "last.pt"
    split = common + ["--decay-steps", "8", "--keep", kept]
    _train(split + ["--out", tmp_path / "a", "--steps", "4"])
    _train(split + ["--out", tmp_path / "b", "--steps", "8", "--resume"])
    one = [r for r in _log(tmp_path / "one") if "train_bits" in r]
    two = [r for r in _log(tmp_path / "a") + _log(tmp_path / "b") if "train_bits" in r]
    assert [r["step"] for r in two] == list(range(1, 9))
    assert [r["lr"] for r in two] == [r["lr"] for r in one]
    assert [r["train_bits"] for r in two[:4]] == [r["train_bits"] for r in one[:4]]
    assert all(abs(a["train_bits"] - b["train_bits"]) < 0.01 for a, b in zip(two, one))
    ck = torch.load(kept, map_location="cpu", weights_only=False)
    assert ck["step"] == 8 and ck["preemphasis"] == 0.0
    moments = [v for st in ck["optimizer"]["state"].values() for k, v in st.items()
               if k.startswith("exp_avg")]
    assert moments and all(v.dtype == torch.bfloat16 for v in moments)
    history = ck["history"]  # both sessions' records, with the validations' signal NLL
    assert [r["step"] for r in history if "val_bits" in r] == [4, 8]
    assert all(r["signal_bits"] > r["val_bits"] for r in history if "val_bits" in r)
    assert [r["session_steps"] for r in history if r.get("done")] == [4, 4]


def shipped_size(checkpoint: dict) -> int:
    """Bytes of a checkpoint's weights as a saved state_dict."""
    return sum(v.numel() * v.element_size() for v in checkpoint["model"].values())


def test_kept_checkpoint_refers_to_shipped_weights(tmp_path: Path) -> None:
    """--keep-weights: while the run's weights differ from the shipped state_dict, the kept file
    holds them without Adam's moments (the size of the weights; a resume restarts Adam); when
    they are equal, it holds the path and digest instead of the weights, with the moments, and a
    fresh resume from it trains on exactly like a resume from the full last.pt; a changed
    shipped file is refused."""
    data = tmp_path / "corpus"
    _synthetic_corpus(data)
    shipped = tmp_path / "repo" / "model.pt"

    def train(out: str, steps: int, kept: Path, *extra: str) -> None:
        _train(["--corpus", data, "--threads", "1", "--batch", "2", "--log-every", "1",
                "--val-every", "100", "--val-seconds", "1", "--decay-steps", "8", "--keep", kept,
                "--keep-weights", shipped, "--out", tmp_path / out, "--steps", steps, *extra])

    kept = tmp_path / "repo" / "last.pt"
    train("a", 4, kept)
    own = torch.load(kept, weights_only=False)  # nothing shipped yet: its own weights, no Adam
    last = torch.load(tmp_path / "a" / "last.pt", weights_only=False)
    assert own["optimizer"] is None and own["step"] == 4
    assert all(torch.equal(own["model"][k], v) for k, v in last["model"].items())
    assert kept.stat().st_size < shipped_size(last) + 65536
    shutil.copy(kept, tmp_path / "own.pt")
    train("e", 5, tmp_path / "own.pt", "--resume")  # a fresh machine resumes it, Adam anew
    assert [r["step"] for r in _log(tmp_path / "e") if "train_bits" in r] == [5]
    torch.save(last["model"], shipped)
    train("a", 4, kept, "--resume")  # an empty session rewrites it
    ref = torch.load(kept, weights_only=False)
    assert set(ref["model"]) == {"path", "sha256"} and ref["optimizer"]["state"]
    for name in ("b.pt", "d.pt"):
        shutil.copy(kept, tmp_path / name)
    (tmp_path / "c").mkdir()
    shutil.copy(tmp_path / "a" / "last.pt", tmp_path / "c" / "last.pt")
    train("b", 6, tmp_path / "b.pt", "--resume")
    train("c", 6, tmp_path / "c.pt", "--resume")
    b, c = ([r["train_bits"] for r in _log(tmp_path / d) if "train_bits" in r] for d in "bc")
    assert len(b) == 2 and b == c
    torch.save({k: v + 1 for k, v in torch.load(shipped).items()}, shipped)
    with pytest.raises(SystemExit, match="has changed"):
        train("d", 8, tmp_path / "d.pt", "--resume")


def test_preemphasis_targets(tmp_path: Path) -> None:
    """--preemphasis trains on the classes of x[n] - a x[n-1] (own cache, same mel) and a
    resumed run keeps its checkpoint's coefficient."""
    data = tmp_path / "corpus"
    _synthetic_corpus(data)
    plain, pre = train.feature_cache(data), train.feature_cache(data, preemphasis=0.85)
    assert (data / "features-pre0.85.npz").exists()
    np.testing.assert_array_equal(plain["train_mel"], pre["train_mel"])
    audio = train.read_wav(data / "wav" / "00000.wav")
    y = audio - 0.85 * np.concatenate([[0.0], audio[:-1]])
    n = int(plain["train_frames"][0]) * 200
    np.testing.assert_array_equal(pre["train_cls"][:n], train.mulaw.encode(y[:n]))
    out = tmp_path / "run"
    common = ["--corpus", data, "--out", out,
              "--threads", "1", "--batch", "2", "--val-every", "2", "--val-seconds", "1"]
    _train(common + ["--steps", "2", "--preemphasis", "0.85"])
    _train(common + ["--steps", "4", "--resume"])
    ck = torch.load(out / "last.pt", map_location="cpu", weights_only=False)
    assert ck["step"] == 4 and ck["preemphasis"] == 0.85

"""Smoke test of examples/train.py on a tiny corpus (slow: synthesises speech, trains 30 steps)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


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

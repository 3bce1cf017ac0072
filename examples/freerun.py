"""`wncc fidelity`'s measurement for a model trained with pre-emphasis (train.py --preemphasis).

`wncc fidelity` scores the classes the C samples as plain mu-law audio and teacher-forces the
plain classes; a pre-emphasized model's classes are of y[n] = x[n] - a x[n-1]. This script
compiles the model with ``--deemphasis a`` (the C's sample loop then writes
x[n] = y[n] + a x[n-1] as 16-bit PCM), scores that PCM with the same metrics on the same excerpts
(``wncc.fidelity``: first ``--seconds`` of the first ``--utterances`` of the split, seed + index,
temperature 1), and teacher-forces the pre-emphasized classes. With ``--preemphasis 0`` it
scores a plain model the same way (its rows equal ``wncc fidelity``'s).

    python examples/freerun.py examples/models/base.onnx --data examples/data/corpus
    python examples/freerun.py pre.onnx --preemphasis 0.85 --data examples/data/corpus \\
        --utterances 5 --seconds 2 --json pre.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from wncc import mulaw  # noqa: E402
from wncc.fidelity import evaluate as ev  # noqa: E402
from wncc.fidelity import metrics  # noqa: E402


def preemphasize(audio: np.ndarray, coef: float) -> np.ndarray:
    return audio - coef * np.concatenate([[0.0], audio[:-1]]) if coef else audio


def run(model: Path, data: Path, coef: float, utterances: int, seconds: float, seed: int,
        wav_dir: Path | None = None) -> dict:
    from wncc.harness import CModel

    utts = ev.load_utterances(data, "test", utterances, seconds)
    with tempfile.TemporaryDirectory(prefix="freerun-") as tmp:
        project = Path(tmp) / "project"
        subprocess.run([sys.executable, "-m", "wncc.cli", "compile", str(model.resolve()), "--target",
                        "host", "--dtype", "fp32", "--deemphasis", repr(coef), "-o",
                        str(project)], check=True, stdout=subprocess.DEVNULL,
                       cwd=HERE.parent)  # this checkout's wncc
        c = CModel(project)
        rows = []
        for i, u in enumerate(utts):
            _classes, pcm = c.vocode(u.mel, seed=seed + i, temperature=1.0)
            generated = pcm.astype(np.float64) / 32768.0
            target = mulaw.encode(preemphasize(u.audio, coef))
            x = np.concatenate([[mulaw.SILENCE], target[:-1]]).astype(np.int64)
            logits = c.teacher_forced(x, u.mel)
            row = {"name": u.name, "samples": len(u.audio),
                   "nll_bits": float(metrics.nll_bits(np.asarray(logits, np.float64).T, target)),
                   **{k: ev._finite(v) for k, v in metrics.metrics(u.audio, generated).items()}}
            rows.append(row)
            print(json.dumps(row), flush=True)
            if wav_dir:
                import wave
                wav_dir.mkdir(parents=True, exist_ok=True)
                with wave.open(str(wav_dir / f"{i:02d}-{u.name}.wav"), "wb") as w:
                    w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
                    w.writeframes(pcm.astype("<i2").tobytes())
    total = sum(r["samples"] for r in rows)
    summary = {"nll_bits": sum(r["nll_bits"] * r["samples"] for r in rows) / total}
    for k in ev.METRICS:
        vals = [r[k] for r in rows if r[k] is not None]
        summary[k] = float(np.mean(vals)) if vals else None
    return {"model": str(model), "preemphasis": coef, "utterances": len(rows),
            "seconds": total / 16000, "seed": seed, "summary": summary, "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--data", type=Path, default=HERE / "data" / "corpus")
    ap.add_argument("--preemphasis", type=float, default=0.0)
    ap.add_argument("--utterances", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--wavs", type=Path, help="also write the generated audio here")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    result = run(args.model, args.data, args.preemphasis, args.utterances, args.seconds,
                 args.seed, args.wavs)
    print(json.dumps(result["summary"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

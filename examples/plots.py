"""The model card's figures: the validation NLL curve of every run of a model and a demo
output's spectrogram beside the ground truth's.

    python examples/plots.py curve examples/checkpoints/base-last.pt -o examples/models/base-nll.png
    python examples/plots.py spectrogram examples/data/test_clip.wav "out/base.wav=base (C)" \\
        -o examples/models/base-demo.png

``curve`` draws the validation records of the checkpoint's history (train.py keeps every log
record of every session in last.pt and in the --keep copy) after the runs of ``EARLIER`` (the
runs before the history was kept, from their logs as tabulated in the card). Steps count over
all runs; every run so far crops 96 frames per step (4 x 24 or 2 x 48 = 1.2 s of audio).
"""

from __future__ import annotations

import argparse
import json
import math
import wave
from pathlib import Path

import numpy as np

# base runs 1 and 2 (examples/models/base.md): (step within the run, validation NLL, first 20 s)
EARLIER = {
    "base": [
        ("run 1 (fp32, 4 x 24)", 0, [(200, 5.578), (400, 4.909), (600, 4.762), (800, 4.538),
                                      (1000, 4.450), (1200, 4.367), (1400, 4.317), (1600, 4.282),
                                      (1800, 4.252), (2000, 4.231), (2200, 4.209), (2400, 4.197),
                                      (2481, 4.187)]),
        ("run 2 (fp32, 4 x 24)", 2481, [(500, 4.161), (1000, 4.082), (1500, 4.037),
                                         (2000, 3.998), (2500, 3.969), (3000, 3.925),
                                         (3500, 3.904), (4000, 3.900), (4179, 3.889)]),
    ],
}


def validation_points(history: list[dict], model: str = "base") -> list[tuple[int, float]]:
    """(step over all runs, validation NLL) of the EARLIER runs and the history's."""
    points, end = [], 0
    for _label, start, run in EARLIER.get(model, []):
        points += [(start + s, v) for s, v in run]
        end = start + run[-1][0]
    return points + [(end + r["step"], r["val_bits"]) for r in history if "val_bits" in r]


def fit(points: list[tuple[int, float]], first: int = 600) -> tuple[float, float, float]:
    """Least-squares NLL(s) = floor + b * s**-a over the points from step ``first`` on."""
    from scipy.optimize import curve_fit

    s, v = (np.array(x, np.float64) for x in zip(*[p for p in points if p[0] >= first]))
    (floor, b, a), _ = curve_fit(lambda s, f, b, a: f + b * s ** -a, s, v, p0=(3.0, 50.0, 0.5),
                                 maxfev=20000)
    return float(floor), float(b), float(a)


def steps_to(target: float, floor: float, b: float, a: float) -> float:
    """Steps at which the fitted curve reaches ``target`` (inf below its floor)."""
    return math.inf if target <= floor else ((target - floor) / b) ** (-1 / a)


def curve(checkpoint: Path, out: Path, model: str = "base", offset: int | None = None) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    end = 0
    for label, start, points in EARLIER.get(model, []):
        steps, bits = zip(*points)
        ax.plot([start + s for s in steps], bits, "o-", ms=3, label=label)
        end = start + steps[-1]
    offset = end if offset is None else offset
    vals = [r for r in ck["history"] if "val_bits" in r]
    floor, b, a = fit(validation_points(ck["history"], model))
    last = offset + ck["step"]
    s = np.geomspace(600, max(4 * last, 30000), 200)
    ax.plot(s, floor + b * s ** -a, "--", color="0.4", lw=1,
            label=f"fit {floor:.2f} + {b:.1f} s^-{a:.2f}")
    ax.set_xscale("log")
    print(json.dumps({"fit": {"floor": floor, "b": b, "a": a}, "last_step": last,
                      **{f"steps_to_{t}": steps_to(t, floor, b, a) for t in (3.7, 3.5, 3.4)}}))
    train = [r for r in ck["history"] if "train_bits" in r]
    if train:
        ax.plot([offset + r["step"] for r in train], [r["train_bits"] for r in train], "-",
                color="0.75", lw=0.8, label="run 3 training loss (crops)", zorder=0)
    if vals:
        ax.plot([offset + r["step"] for r in vals], [r["val_bits"] for r in vals], "o-", ms=3,
                label="run 3 (bf16, 2 x 48)")
    ax.axhline(vals[-1]["unigram_bits"] if vals else 6.913, ls=":", color="gray",
               label="unigram entropy (no context)")
    ax.set_xlabel("training steps over all runs (1.2 s of audio cropped per step), log scale")
    ax.set_ylabel("validation NLL, bits/sample (first 20 s)")
    ax.set_ylim(3.5, 7.2)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"{model}: teacher-forced validation NLL")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        data = w.readframes(w.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0


def log_spectrogram(audio: np.ndarray, n_fft: int = 1024, hop: int = 80) -> np.ndarray:
    """dB magnitude [bins, frames], Hann window, 16 kHz."""
    window = np.hanning(n_fft)
    audio = np.pad(audio, (n_fft // 2, n_fft // 2))
    frames = np.lib.stride_tricks.sliding_window_view(audio, n_fft)[::hop] * window
    mag = np.abs(np.fft.rfft(frames, axis=1)).T
    return 20 * np.log10(np.maximum(mag, 1e-5))


def spectrogram(generated: list[tuple[Path, str]], truth: Path, out: Path,
                fmax: float = 4000.0) -> None:
    """The ground truth's spectrogram above each (wav, label)'s, on one dB scale, 0-fmax Hz."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(truth, f"ground truth: {truth.name}")] + generated
    fig, axes = plt.subplots(len(rows), 1, figsize=(9, 2.6 * len(rows)), sharex=True,
                             sharey=True, squeeze=False)
    top = log_spectrogram(read_wav(truth)).max()
    for ax, (path, label) in zip(axes[:, 0], rows):
        spec = log_spectrogram(read_wav(path))
        seconds = spec.shape[1] * 80 / 16000
        ax.imshow(spec, origin="lower", aspect="auto", cmap="magma", vmin=top - 80, vmax=top,
                  extent=(0, seconds, 0, 8000))
        ax.set_ylim(0, fmax)
        ax.set_ylabel("Hz")
        ax.set_title(label, fontsize=10)
    axes[-1, 0].set_xlabel("seconds")
    fig.tight_layout()
    fig.savefig(out, dpi=72)
    from PIL import Image  # matplotlib's own dependency: a 128-colour palette, a third the size
    Image.open(out).convert("RGB").quantize(128).save(out, optimize=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    c = sub.add_parser("curve", help="validation NLL over all runs")
    c.add_argument("checkpoint", type=Path)
    c.add_argument("--model", default="base")
    c.add_argument("-o", "--output", type=Path, required=True)
    s = sub.add_parser("spectrogram", help="generated audio below the ground truth")
    s.add_argument("truth", type=Path)
    s.add_argument("generated", nargs="+", metavar="WAV=LABEL")
    s.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args()
    if args.what == "curve":
        curve(args.checkpoint, args.output, args.model)
    else:
        pairs = [item.partition("=") for item in args.generated]
        spectrogram([(Path(w), label or Path(w).name) for w, _, label in pairs], args.truth,
                    args.output)


if __name__ == "__main__":
    main()

"""The model card's figures: the validation NLL curve of every run of a model and a demo
output's spectrogram beside the ground truth's.

    python examples/plots.py curve examples/checkpoints/base-last.pt -o examples/models/base-nll.png
    python examples/plots.py spectrogram out/base.wav examples/data/test_clip.wav \\
        -o examples/models/base-demo.png

``curve`` draws the validation records of the checkpoint's history (train.py keeps every log
record of every session in last.pt and in the --keep copy) after the runs of ``EARLIER`` (the
runs before the history was kept, from their logs as tabulated in the card). Steps count over
all runs; every run so far crops 96 frames per step (4 x 24 or 2 x 48 = 1.2 s of audio).
"""

from __future__ import annotations

import argparse
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
    train = [r for r in ck["history"] if "train_bits" in r]
    if train:
        ax.plot([offset + r["step"] for r in train], [r["train_bits"] for r in train], "-",
                color="0.75", lw=0.8, label="run 3 training loss (crops)", zorder=0)
    if vals:
        ax.plot([offset + r["step"] for r in vals], [r["val_bits"] for r in vals], "o-", ms=3,
                label="run 3 (bf16, 2 x 48)")
    ax.axhline(vals[-1]["unigram_bits"] if vals else 6.913, ls=":", color="gray",
               label="unigram entropy (no context)")
    ax.set_xlabel("training steps over all runs (1.2 s of audio cropped per step)")
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


def spectrogram(generated: Path, truth: Path, out: Path, fmax: float = 4000.0,
                title: str = "") -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True, sharey=True)
    ref = log_spectrogram(read_wav(truth))
    top = ref.max()
    for ax, path, name in zip(axes, (truth, generated), ("ground truth", "vocoder output")):
        spec = log_spectrogram(read_wav(path))
        seconds = spec.shape[1] * 80 / 16000
        ax.imshow(spec, origin="lower", aspect="auto", cmap="magma", vmin=top - 80, vmax=top,
                  extent=(0, seconds, 0, 8000))
        ax.set_ylim(0, fmax)
        ax.set_ylabel("Hz")
        ax.set_title(f"{name}: {path.name}")
    axes[-1].set_xlabel("seconds")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    c = sub.add_parser("curve", help="validation NLL over all runs")
    c.add_argument("checkpoint", type=Path)
    c.add_argument("--model", default="base")
    c.add_argument("-o", "--output", type=Path, required=True)
    s = sub.add_parser("spectrogram", help="generated audio beside the ground truth")
    s.add_argument("generated", type=Path)
    s.add_argument("truth", type=Path)
    s.add_argument("--title", default="")
    s.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args()
    if args.what == "curve":
        curve(args.checkpoint, args.output, args.model)
    else:
        spectrogram(args.generated, args.truth, args.output, title=args.title)


if __name__ == "__main__":
    main()

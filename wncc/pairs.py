"""Features a user brings: mel arrays with their audio, for models whose features are not wncc's.

A foreign vocoder's mel (bins, hop, sample rate, normalization) is its training recipe's, not
wncc's extractor's (wncc/features.py). Calibration, ``verify`` and ``vocode`` therefore also take
the user's own pairs:

* ``NAME.npz`` holding ``mel`` ([frames, n_mels] or [n_mels, frames]) and, optionally, ``audio``
  (float in [-1, 1] or int16 PCM, the samples the mel describes);
* ``NAME.npy``, a mel array alone, its audio in ``NAME.wav`` beside it when there is one;
* a folder of either, in name order.

``fit`` checks a pair against the model: the mel bins, and the samples the model makes from that
many frames (``(frames + frames_delta) * hop``, a valid input convolution dropping frames); a
mismatch is one line saying what shape the model wants.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from wncc.audio import read_wav
from wncc.errors import WnccError

SUFFIXES = (".npz", ".npy")


@dataclasses.dataclass(frozen=True)
class Pair:
    name: str
    mel: np.ndarray  # [frames, n_mels] float32
    audio: np.ndarray | None  # float64 in [-1, 1], or None


def is_pairs(path: str | Path) -> bool:
    """Whether a data argument names user features (not wav audio for wncc's extractor). A
    corpus folder (manifest.json) is audio, whatever caches lie beside it (examples/train.py
    keeps its features.npz there)."""
    p = Path(path)
    if p.is_dir():
        return (not (p / "manifest.json").exists()
                and any(f.suffix in SUFFIXES for f in p.iterdir()))
    return p.suffix in SUFFIXES


def load(path: str | Path, n_mels: int | None) -> list[Pair]:
    """The pairs of a file or folder, mels as [frames, n_mels] (a transposed array is turned;
    n_mels None: taken as stored)."""
    p = Path(path)
    if not p.exists():
        raise WnccError("features not found", path=str(p))
    files = sorted(f for f in p.iterdir() if f.suffix in SUFFIXES) if p.is_dir() else [p]
    if not files:
        raise WnccError("no .npz or .npy features in this folder", path=str(p))
    return [_pair(f, n_mels) for f in files]


def _pair(path: Path, n_mels: int | None) -> Pair:
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                if "mel" not in data:
                    raise WnccError(f"an .npz of features needs a 'mel' array (found: "
                                    f"{', '.join(sorted(data.files)) or 'none'})", path=str(path))
                mel = np.asarray(data["mel"])
                audio = np.asarray(data["audio"]) if "audio" in data else None
        else:
            mel = np.load(path, allow_pickle=False)
            wav = path.with_suffix(".wav")
            audio = read_wav(wav, "features") if wav.exists() else None
    except WnccError:
        raise
    except (OSError, ValueError) as exc:
        raise WnccError(f"not a numpy feature file: {str(exc).splitlines()[0]}",
                        path=str(path)) from None
    return Pair(path.stem, _frames_first(mel, n_mels, path), _audio(audio, path))


def _frames_first(mel: np.ndarray, n_mels: int | None, path: Path) -> np.ndarray:
    if mel.ndim == 3 and mel.shape[0] == 1:
        mel = mel[0]
    n_mels = mel.shape[-1] if n_mels is None and mel.ndim == 2 else n_mels
    if mel.ndim != 2 or n_mels not in mel.shape:
        raise WnccError(f"mel of shape {list(mel.shape)}: the model wants [frames, {n_mels}] "
                        f"(or [{n_mels}, frames])", path=str(path))
    if not np.issubdtype(mel.dtype, np.floating) or not np.all(np.isfinite(mel)):
        raise WnccError("mel values must be finite floats", path=str(path))
    frames_first = mel if mel.shape[1] == n_mels else mel.T
    return np.ascontiguousarray(frames_first, dtype=np.float32)


def _audio(audio: np.ndarray | None, path: Path) -> np.ndarray | None:
    if audio is None:
        return None
    a = np.asarray(audio).reshape(-1)
    if a.dtype == np.int16:
        return a.astype(np.float64) / 32768.0
    if not np.issubdtype(a.dtype, np.floating) or not np.all(np.isfinite(a)):
        raise WnccError("audio must be int16 PCM or finite floats in [-1, 1]", path=str(path))
    if a.size and float(np.abs(a).max()) > 1.0:
        raise WnccError(f"audio peaks at {float(np.abs(a).max()):.3g}: floats must lie in "
                        "[-1, 1]", path=str(path))
    return a.astype(np.float64)


def fit(pair: Pair, hop: int, frames_delta: int) -> Pair:
    """The pair with its audio cut to the samples the model makes from its mel; refused when
    the audio is shorter, saying what the model wants."""
    frames = pair.mel.shape[0]
    samples = (frames + frames_delta) * hop
    if samples <= 0:
        raise WnccError(f"'{pair.name}': {frames} mel frames make no output: the model needs "
                        f"more than {-frames_delta} frames")
    if pair.audio is not None and pair.audio.size < samples:
        want = f"({frames}{frames_delta:+d}) x {hop}" if frames_delta else f"{frames} x {hop}"
        raise WnccError(f"'{pair.name}': {pair.audio.size} audio samples for {frames} mel "
                        f"frames: the model wants {want} = {samples}")
    audio = None if pair.audio is None else pair.audio[:samples]
    return dataclasses.replace(pair, audio=audio)


def edge_padded(mel: np.ndarray, extra: int) -> np.ndarray:
    """Mel frames [F, n_mels] of a model whose conditioning drops `extra` frames (a valid input
    convolution) with as many edge frames added around them, half before and the rest after
    (r9y9 pads cin_pad on each side): for audio whose mel wncc's extractor computes."""
    if extra <= 0:
        return mel
    return np.pad(mel, ((extra // 2, extra - extra // 2), (0, 0)), mode="edge")

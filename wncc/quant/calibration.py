"""Calibration data: deterministic crops of real (x, mel) pairs for ONNX Runtime's calibrators.

A source is a single .wav file, a folder of .wav files, or a corpus folder written by
``examples/corpus.py`` (``manifest.json`` + ``wav/``; one split is used, ``train`` by default).
Audio must be 16 kHz mono 16-bit PCM. For every utterance the whole-file features are computed
first (``wncc.features.log_mel``, exactly ``len(audio) // hop`` frames; the audio is truncated to
``frames * hop`` samples) and the teacher-forcing input is ``x = [128] + mulaw.encode(audio[:-1])``
(fed as classes, or as their one-hot vectors to a one-hot input) or, for a scalar input, the
previous sample's value ``[0] + audio[:-1]``; crops of ``crop_frames`` frames are cut from those, so
a crop sees the mel of its real context.

Crop selection is deterministic (no RNG): every file contributes its non-overlapping crops at
frame offsets ``0, crop, 2*crop, ...``; the candidates of all files (sorted by path) are listed in
order and ``crops`` of them are taken at evenly spaced indices, so the selection spreads over the
whole corpus and only the files that hold a selected crop are decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from onnxruntime.quantization import CalibrationDataReader

from wncc.audio import read_wav, wav_length, wav_sources
from wncc.errors import WnccError

HOP = 200
DEFAULT_CROPS = 32
DEFAULT_CROP_FRAMES = 12


@dataclass(frozen=True)
class Crop:
    """One calibration example: ``x`` int64 [1, frames*hop], ``mel`` float32 [1, n_mels, frames],
    ``prev`` float32 [1, frames*hop] (the previous sample's value)."""

    source: str
    start_frame: int
    x: np.ndarray
    mel: np.ndarray
    prev: np.ndarray


def wav_files(source: str | Path, split: str = "train") -> list[Path]:
    """The wav files of a calibration source (see the module doc), sorted, never empty."""
    return sorted(path for _, path in wav_sources(source, split, "calibration"))


def features(audio: np.ndarray, hop: int = HOP) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole-utterance model inputs: x int64 [frames*hop], mel float32 [n_mels, frames], prev
    float32 [frames*hop]."""
    from wncc import features as feat
    from wncc import mulaw

    frames = len(audio) // hop
    audio = audio[: frames * hop]
    mel = feat.log_mel(audio)
    if mel.shape[0] != frames:
        raise WnccError(f"log_mel returned {mel.shape[0]} frames for {len(audio)} samples, "
                        f"expected {frames}")
    x = np.concatenate([[mulaw.SILENCE], mulaw.encode(audio[:-1])]).astype(np.int64)
    prev = np.concatenate([[0.0], audio[:-1]]).astype(np.float32)
    return x, np.ascontiguousarray(mel.T.astype(np.float32)), prev


def select(lengths: list[int], crops: int, crop_frames: int) -> list[tuple[int, int]]:
    """(file index, start frame) of ``crops`` evenly spread non-overlapping candidate crops."""
    candidates = [(i, k * crop_frames) for i, n in enumerate(lengths)
                  for k in range(n // crop_frames)]
    if not candidates:
        raise WnccError(f"calibration audio is shorter than one crop of {crop_frames} frames "
                        f"({crop_frames * HOP} samples)")
    if crops >= len(candidates):
        return candidates
    idx = np.linspace(0, len(candidates) - 1, crops).round().astype(int)
    return [candidates[i] for i in idx]


def load_crops(source: str | Path, crops: int = DEFAULT_CROPS,
               crop_frames: int = DEFAULT_CROP_FRAMES, split: str = "train") -> list[Crop]:
    """The calibration crops of a source (deterministic; see the module doc)."""
    if crops < 1:
        raise WnccError(f"--calib-crops must be at least 1, got {crops}")
    if crop_frames < 1:
        raise WnccError(f"crop length must be at least 1 frame, got {crop_frames}")
    files = wav_files(source, split)
    lengths = []
    for f in files:
        lengths.append(wav_length(f, "calibration") // HOP)
    chosen = select(lengths, crops, crop_frames)
    out: list[Crop] = []
    cache: tuple[int, np.ndarray, np.ndarray, np.ndarray] | None = None
    for i, start in chosen:
        if cache is None or cache[0] != i:
            cache = (i, *features(read_wav(files[i], "calibration")))
        _, x, mel, prev = cache
        span = slice(start * HOP, (start + crop_frames) * HOP)
        ms = mel[:, start:start + crop_frames]
        out.append(Crop(str(files[i]), start, x[span][None, :].copy(), ms[None, :, :].copy(),
                        prev[span][None, :].copy()))
    return out


class CalibrationReader(CalibrationDataReader):
    """ONNX Runtime ``CalibrationDataReader`` over crops (``get_next``, ``rewind``, iteration).

    ``inputs`` names the model's (samples input, float mel input), default ("x", "mel");
    ``kind`` is what the samples input takes (frontend/inputs.py samples_kind): classes, their
    one-hot vectors of that many channels, or the previous sample's value.
    """

    def __init__(self, crops: list[Crop], inputs: tuple[str, str] = ("x", "mel"),
                 kind: tuple[str, int] = ("class", 1)) -> None:
        if not crops:
            raise WnccError("no calibration crops")
        self.crops = list(crops)
        self.inputs = inputs
        self.kind = kind
        self._it: Iterator[Crop] = iter(self.crops)

    @classmethod
    def from_source(cls, source: str | Path, crops: int = DEFAULT_CROPS,
                    crop_frames: int = DEFAULT_CROP_FRAMES, split: str = "train",
                    inputs: tuple[str, str] = ("x", "mel"), kind: tuple[str, int] = ("class", 1)
                    ) -> "CalibrationReader":
        return cls(load_crops(source, crops, crop_frames, split), inputs, kind)

    def __len__(self) -> int:
        return len(self.crops)

    def feeds(self, c: Crop) -> dict[str, np.ndarray]:
        kind, channels = self.kind
        if kind == "scalar":
            x = c.prev[:, None, :]
        elif kind == "onehot":
            x = (np.arange(channels)[None, :, None] == c.x[:, None, :]).astype(np.float32)
        else:
            x = c.x
        return {self.inputs[0]: x, self.inputs[1]: c.mel}

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        for c in self.crops:
            yield self.feeds(c)

    def get_next(self) -> dict[str, np.ndarray] | None:
        c = next(self._it, None)
        return None if c is None else self.feeds(c)

    def rewind(self) -> None:
        self._it = iter(self.crops)

    def set_range(self, start_index: int, end_index: int) -> None:  # ORT calls this in strided mode
        self._it = iter(self.crops[start_index:end_index])

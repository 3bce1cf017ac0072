"""Calibration data: deterministic crops of real (x, mel) pairs for ONNX Runtime's calibrators.

A source is a single .wav file, a folder of .wav files, or a corpus folder written by
``examples/corpus.py`` (``manifest.json`` + ``wav/``; one split is used, ``train`` by default).
Audio must be 16 kHz mono 16-bit PCM. For every utterance the whole-file features are computed
first (``wncc.features.log_mel``, exactly ``len(audio) // hop`` frames; the audio is truncated to
``frames * hop`` samples) and the teacher-forcing input is ``x = [128] + mulaw.encode(audio[:-1])``
(fed as classes, or as their one-hot vectors to a one-hot input) or, for a scalar input, the
previous sample's value ``[0] + audio[:-1]``; crops of ``crop_frames`` frames are cut from those, so
a crop sees the mel of its real context.

A foreign model's features are not wncc's: its own pairs (``.npz`` mel + audio, ``.npy`` with its
``.wav``, or a folder of them; wncc/pairs.py) give the mels as they are and the audio for the
inputs, cut at the model's hop. Audio through wncc's extractor needs a model with its 80 bins and
hop; otherwise the error says what the model wants. A model whose conditioning drops frames (a
valid input convolution) gets that many more mel frames per crop (edge frames at the ends).

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

from wncc import pairs as user_pairs
from wncc.audio import read_wav, wav_length, wav_sources
from wncc.errors import WnccError

HOP = 200
DEFAULT_CROPS = 32
DEFAULT_CROP_FRAMES = 12


@dataclass(frozen=True)
class Shape:
    """What the model's inputs are: samples per frame, mel bins, mel frames dropped."""

    hop: int = HOP
    n_mels: int = 80
    extra: int = 0


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


def select(lengths: list[int], crops: int, crop_frames: int, hop: int = HOP
           ) -> list[tuple[int, int]]:
    """(file index, start frame) of ``crops`` evenly spread non-overlapping candidate crops."""
    candidates = [(i, k * crop_frames) for i, n in enumerate(lengths)
                  for k in range(n // crop_frames)]
    if not candidates:
        raise WnccError(f"calibration audio is shorter than one crop of {crop_frames} frames "
                        f"({crop_frames * hop} samples)")
    if crops >= len(candidates):
        return candidates
    idx = np.linspace(0, len(candidates) - 1, crops).round().astype(int)
    return [candidates[i] for i in idx]


def load_crops(source: str | Path, crops: int = DEFAULT_CROPS,
               crop_frames: int = DEFAULT_CROP_FRAMES, split: str = "train",
               shape: Shape = Shape()) -> list[Crop]:
    """The calibration crops of a source (deterministic; see the module doc)."""
    if crops < 1:
        raise WnccError(f"--calib-crops must be at least 1, got {crops}")
    if crop_frames < 1:
        raise WnccError(f"crop length must be at least 1 frame, got {crop_frames}")
    if user_pairs.is_pairs(source):
        return _pair_crops(source, crops, crop_frames, shape)
    if (shape.hop, shape.n_mels) != (HOP, 80):
        raise WnccError(f"the model wants mel frames of {shape.n_mels} bins at {shape.hop} "
                        f"samples a frame; wncc's extractor makes 80 bins at {HOP}: calibrate "
                        "with your own features (.npz files with 'mel' and 'audio')",
                        path=str(source))
    files = wav_files(source, split)
    lengths = []
    for f in files:
        lengths.append(wav_length(f, "calibration") // HOP)
    chosen = select(lengths, crops, crop_frames, HOP)
    out: list[Crop] = []
    cache: tuple[int, np.ndarray, np.ndarray, np.ndarray] | None = None
    for i, start in chosen:
        if cache is None or cache[0] != i:
            x, mel, prev = features(read_wav(files[i], "calibration"))
            cache = (i, x, user_pairs.edge_padded(mel.T, shape.extra).T, prev)
        _, x, mel, prev = cache
        out.append(_crop(str(files[i]), start, crop_frames, HOP, shape.extra, x, mel, prev))
    return out


def _crop(name: str, start: int, frames: int, hop: int, extra: int, x: np.ndarray,
          mel: np.ndarray, prev: np.ndarray) -> Crop:
    """Output frames start .. start + frames of an utterance: their samples and their mel
    frames (and the `extra` ones the conditioning drops)."""
    span = slice(start * hop, (start + frames) * hop)
    ms = mel[:, start:start + frames + extra]
    return Crop(name, start, x[span][None, :].copy(), ms[None, :, :].copy(),
                prev[span][None, :].copy())


def _pair_crops(source: str | Path, crops: int, crop_frames: int, shape: Shape) -> list[Crop]:
    """Crops of the user's own (mel, audio) pairs, the mels as they are."""
    from wncc import mulaw

    pairs = [user_pairs.fit(p, shape.hop, -shape.extra)
             for p in user_pairs.load(source, shape.n_mels)]
    if any(p.audio is None for p in pairs):
        raise WnccError("calibration pairs need their audio (an 'audio' array in each .npz, or "
                        "a .wav beside each .npy)", path=str(source))
    lengths = [p.mel.shape[0] - shape.extra for p in pairs]
    out = []
    for i, start in select(lengths, crops, crop_frames, shape.hop):
        audio = pairs[i].audio
        x = np.concatenate([[mulaw.SILENCE], mulaw.encode(audio[:-1])]).astype(np.int64)
        prev = np.concatenate([[0.0], audio[:-1]]).astype(np.float32)
        out.append(_crop(pairs[i].name, start, crop_frames, shape.hop, shape.extra, x,
                         np.ascontiguousarray(pairs[i].mel.T), prev))
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
                    inputs: tuple[str, str] = ("x", "mel"), kind: tuple[str, int] = ("class", 1),
                    shape: Shape = Shape()) -> "CalibrationReader":
        return cls(load_crops(source, crops, crop_frames, split, shape), inputs, kind)

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

"""Calibration data: deterministic crops of real (x, mel) pairs for ONNX Runtime's calibrators.

A source is a single .wav file, a folder of .wav files, or a corpus folder written by
``examples/corpus.py`` (``manifest.json`` + ``wav/``; one split is used, ``train`` by default).
Audio must be 16 kHz mono 16-bit PCM. For every utterance the whole-file features are computed
first (``wncc.features.log_mel``, exactly ``len(audio) // hop`` frames; the audio is truncated to
``frames * hop`` samples) and the teacher-forcing input is ``x = [128] + mulaw.encode(audio[:-1])``;
crops of ``crop_frames`` frames are cut from those, so a crop sees the mel of its real context.

Crop selection is deterministic (no RNG): every file contributes its non-overlapping crops at
frame offsets ``0, crop, 2*crop, ...``; the candidates of all files (sorted by path) are listed in
order and ``crops`` of them are taken at evenly spaced indices, so the selection spreads over the
whole corpus and only the files that hold a selected crop are decoded.
"""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from onnxruntime.quantization import CalibrationDataReader

from wncc.errors import WnccError

SAMPLE_RATE = 16000
HOP = 200
DEFAULT_CROPS = 32
DEFAULT_CROP_FRAMES = 12


@dataclass(frozen=True)
class Crop:
    """One calibration example: ``x`` int64 [1, frames*hop], ``mel`` float32 [1, n_mels, frames]."""

    source: str
    start_frame: int
    x: np.ndarray
    mel: np.ndarray


def _wav_info(path: Path) -> tuple[int, int, int, int]:
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
    except (wave.Error, EOFError, OSError) as exc:
        raise WnccError(f"cannot read wav: {exc}", path=str(path)) from None


def _check_format(path: Path, channels: int, width: int, rate: int) -> None:
    if channels != 1 or width != 2 or rate != SAMPLE_RATE:
        raise WnccError(f"calibration audio must be {SAMPLE_RATE} Hz mono 16-bit PCM, got "
                        f"{rate} Hz, {channels} channel(s), {8 * width}-bit", path=str(path))


def read_wav(path: Path) -> np.ndarray:
    """16 kHz mono 16-bit PCM wav -> float64 audio in [-1, 1)."""
    channels, width, rate, _ = _wav_info(path)
    _check_format(path, channels, width, rate)
    try:
        with wave.open(str(path), "rb") as w:
            data = w.readframes(w.getnframes())
    except (wave.Error, EOFError, OSError) as exc:
        raise WnccError(f"cannot read wav: {exc}", path=str(path)) from None
    return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float64) / 32768.0


def wav_files(source: str | Path, split: str = "train") -> list[Path]:
    """The wav files of a calibration source (see the module doc), sorted, never empty."""
    src = Path(source)
    if not src.exists():
        raise WnccError("calibration data not found", path=str(src))
    if src.is_file():
        if src.suffix.lower() != ".wav":
            raise WnccError("calibration data must be a .wav file, a folder of .wav files or a "
                            "corpus folder with manifest.json", path=str(src))
        return [src]
    manifest = src / "manifest.json"
    if manifest.exists():
        try:
            utts = json.loads(manifest.read_text())["utterances"]
            files = sorted(src / u["path"] for u in utts if u.get("split", "train") == split)
        except (ValueError, KeyError, TypeError) as exc:
            raise WnccError(f"malformed corpus manifest: {exc}", path=str(manifest)) from None
        if not files:
            raise WnccError(f"corpus manifest has no utterances in split '{split}'",
                            path=str(manifest))
        missing = [f for f in files if not f.exists()]
        if missing:
            raise WnccError(f"{len(missing)} wav file(s) of the manifest are missing, e.g. "
                            f"{missing[0].name}", path=str(src))
        return files
    files = sorted(p for p in src.iterdir() if p.suffix.lower() == ".wav" and p.is_file())
    if not files:
        raise WnccError("no .wav files in calibration folder", path=str(src))
    return files


def features(audio: np.ndarray, hop: int = HOP) -> tuple[np.ndarray, np.ndarray]:
    """Whole-utterance model inputs: x int64 [frames*hop], mel float32 [n_mels, frames]."""
    from wncc import features as feat
    from wncc import mulaw

    frames = len(audio) // hop
    audio = audio[: frames * hop]
    mel = feat.log_mel(audio)
    if mel.shape[0] != frames:
        raise WnccError(f"log_mel returned {mel.shape[0]} frames for {len(audio)} samples, "
                        f"expected {frames}")
    x = np.concatenate([[mulaw.SILENCE], mulaw.encode(audio[:-1])]).astype(np.int64)
    return x, np.ascontiguousarray(mel.T.astype(np.float32))


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
        channels, width, rate, n = _wav_info(f)
        _check_format(f, channels, width, rate)
        lengths.append(n // HOP)
    chosen = select(lengths, crops, crop_frames)
    out: list[Crop] = []
    cache: tuple[int, np.ndarray, np.ndarray] | None = None
    for i, start in chosen:
        if cache is None or cache[0] != i:
            cache = (i, *features(read_wav(files[i])))
        _, x, mel = cache
        xs = x[start * HOP:(start + crop_frames) * HOP]
        ms = mel[:, start:start + crop_frames]
        out.append(Crop(str(files[i]), start, xs[None, :].copy(), ms[None, :, :].copy()))
    return out


class CalibrationReader(CalibrationDataReader):
    """ONNX Runtime ``CalibrationDataReader`` over crops (``get_next``, ``rewind``, iteration).

    ``inputs`` names the model's (int64 class input, float mel input), default ("x", "mel").
    """

    def __init__(self, crops: list[Crop], inputs: tuple[str, str] = ("x", "mel")) -> None:
        if not crops:
            raise WnccError("no calibration crops")
        self.crops = list(crops)
        self.inputs = inputs
        self._it: Iterator[Crop] = iter(self.crops)

    @classmethod
    def from_source(cls, source: str | Path, crops: int = DEFAULT_CROPS,
                    crop_frames: int = DEFAULT_CROP_FRAMES, split: str = "train",
                    inputs: tuple[str, str] = ("x", "mel")) -> "CalibrationReader":
        return cls(load_crops(source, crops, crop_frames, split), inputs)

    def __len__(self) -> int:
        return len(self.crops)

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        for c in self.crops:
            yield {self.inputs[0]: c.x, self.inputs[1]: c.mel}

    def get_next(self) -> dict[str, np.ndarray] | None:
        c = next(self._it, None)
        return None if c is None else {self.inputs[0]: c.x, self.inputs[1]: c.mel}

    def rewind(self) -> None:
        self._it = iter(self.crops)

    def set_range(self, start_index: int, end_index: int) -> None:  # ORT calls this in strided mode
        self._it = iter(self.crops[start_index:end_index])

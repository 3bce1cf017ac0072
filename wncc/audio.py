"""Audio and corpus input (and wav output), in one place: 16 kHz mono 16-bit wav files, folders
of them, and the corpus folders that ``examples/corpus.py`` writes (``manifest.json`` + ``wav/``,
utterances by split). Calibration, evaluation, verify, study and vocode read their audio through
here; vocode and the study's report write theirs with ``write_wav``."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np

from wncc.errors import WnccError

SAMPLE_RATE = 16000
FORMS = ("a .wav file, a folder of .wav files or a corpus folder with manifest.json; or your "
         "own features: .npz files with 'mel' and 'audio' arrays (a file or a folder)")


def _read(path: str | Path, purpose: str, samples: bool) -> tuple[int, bytes]:
    """(frames in the header, the samples' bytes when asked) of a checked wav."""
    try:
        with wave.open(str(path), "rb") as w:
            fmt = (w.getnchannels(), w.getsampwidth(), w.getframerate())
            n = w.getnframes()
            data = w.readframes(n) if samples else b""
    except (wave.Error, EOFError, OSError) as exc:
        raise WnccError(f"cannot read wav: {exc}", path=str(path)) from None
    if fmt != (1, 2, SAMPLE_RATE):
        raise WnccError(f"{purpose} audio must be {SAMPLE_RATE} Hz mono 16-bit PCM, got "
                        f"{fmt[2]} Hz, {fmt[0]} channel(s), {8 * fmt[1]}-bit", path=str(path))
    return n, data


def wav_length(path: str | Path, purpose: str = "input") -> int:
    """Samples of a 16 kHz mono 16-bit PCM wav, from its header (format checked)."""
    return _read(path, purpose, samples=False)[0]


def read_wav(path: str | Path, purpose: str = "input") -> np.ndarray:
    """16 kHz mono 16-bit PCM wav -> float64 audio in [-1, 1)."""
    data = _read(path, purpose, samples=True)[1]
    return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float64) / 32768.0


def pcm16(audio: np.ndarray) -> np.ndarray:
    """float audio in [-1, 1) -> int16 PCM: the exact inverse of ``read_wav``."""
    return np.clip(np.round(np.asarray(audio) * 32768.0), -32768, 32767).astype(np.int16)


def write_wav(path: Path, pcm: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """int16 PCM -> a mono 16-bit wav (its folder created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(np.asarray(pcm, "<i2").tobytes())


def wav_sources(data: str | Path, split: str, purpose: str) -> list[tuple[str, Path]]:
    """(name, wav path) of a data source, never empty: a .wav file; a folder of .wav files
    (sorted by name); a corpus folder (the utterances of ``split`` in manifest order)."""
    src = Path(data)
    if not src.exists():
        hint = (" (make the example corpus with: python examples/corpus.py)"
                if src.name == "corpus" else "")
        raise WnccError(f"{purpose} data not found{hint}", path=str(src))
    if src.is_file():
        if src.suffix.lower() != ".wav":
            raise WnccError(f"{purpose} data must be {FORMS}", path=str(src))
        return [(src.stem, src)]
    manifest = src / "manifest.json"
    if manifest.exists():
        try:
            utts = json.loads(manifest.read_text())["utterances"]
            files = [(str(u.get("id", Path(u["path"]).stem)), src / u["path"])
                     for u in utts if u.get("split", "train") == split]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WnccError(f"malformed corpus manifest: {exc}", path=str(manifest)) from None
        if not files:
            raise WnccError(f"corpus manifest has no utterances in split '{split}'",
                            path=str(manifest))
        missing = [p for _, p in files if not p.exists()]
        if missing:
            raise WnccError(f"{len(missing)} wav file(s) of the manifest are missing, e.g. "
                            f"{missing[0].name}", path=str(src))
        return files
    files = sorted(p for p in src.iterdir() if p.is_file() and p.suffix.lower() == ".wav")
    if not files:
        raise WnccError(f"no .wav files in {purpose} folder", path=str(src))
    return [(p.stem, p) for p in files]

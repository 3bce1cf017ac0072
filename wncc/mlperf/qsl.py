"""The query sample library: held-out speech cut into utterance-sized excerpts.

Sample ``i`` is excerpt ``i``: ``seconds`` of audio (whole hops) taken back to back from the data's
files in order (``wncc.audio.wav_sources``: a .wav, a folder of wavs, or a corpus split), so a short
clip gives several samples. Its query input is the excerpt's log-mel (``wncc.features``, through
``wncc.fidelity.evaluate.utterance``); the reference audio, the teacher-forcing input and the
target classes lie beside it. ``load``/``unload`` really read the wav and compute the features, and
really drop them: LoadGen decides what is resident.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from wncc import features
from wncc.audio import SAMPLE_RATE, read_wav, wav_length, wav_sources
from wncc.errors import WnccError
from wncc.fidelity.evaluate import Utterance, utterance


@dataclass(frozen=True)
class Excerpt:
    """Samples ``[start, start + length)`` of one wav."""

    name: str
    path: Path
    start: int
    length: int


def excerpts(data: str | Path, split: str, seconds: float, count: int,
             hop: int = features.HOP) -> list[Excerpt]:
    """Up to ``count`` (0: all) excerpts of ``seconds`` each (rounded down to whole hops)."""
    length = int(seconds * SAMPLE_RATE) // hop * hop
    if length < hop:
        raise WnccError(f"--seconds must cover at least one hop ({hop / SAMPLE_RATE:g} s), "
                        f"got {seconds:g}")
    if count < 0:
        raise WnccError(f"--samples must be >= 0, got {count}")
    out: list[Excerpt] = []
    for name, path in wav_sources(data, split, "benchmark"):
        for k in range(wav_length(path, "benchmark") // length):
            if count and len(out) >= count:
                return out
            out.append(Excerpt(f"{name}@{k * length}", path, k * length, length))
    if not out:
        raise WnccError(f"no excerpt of {length / SAMPLE_RATE:g} s in the benchmark data",
                        path=str(data))
    return out


class Library:
    """The QSL: excerpts, the ones LoadGen has loaded, and the LoadGen handle."""

    def __init__(self, items: list[Excerpt], performance_count: int = 0,
                 hop: int = features.HOP) -> None:
        self.items = items
        self.hop = hop
        self.performance_count = min(performance_count or len(items), len(items))
        self.loaded: dict[int, Utterance] = {}

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Utterance:
        return self.loaded[index]

    def load(self, indices: list[int]) -> None:
        cache: dict[Path, np.ndarray] = {}
        for i in indices:
            if i in self.loaded:
                continue
            e = self.items[i]
            if e.path not in cache:
                cache[e.path] = read_wav(e.path, "benchmark")
            audio = cache[e.path][e.start:e.start + e.length]
            self.loaded[i] = utterance(e.name, audio, self.hop)

    def unload(self, indices: list[int]) -> None:
        for i in indices:
            self.loaded.pop(i, None)

    @contextlib.contextmanager
    def constructed(self) -> Iterator[object]:
        """The LoadGen QSL handle for the duration of a test."""
        import mlperf_loadgen as lg

        handle = lg.ConstructQSL(len(self.items), self.performance_count, self.load, self.unload)
        try:
            yield handle
        finally:
            lg.DestroyQSL(handle)

    def describe(self) -> dict:
        seconds = self.items[0].length / SAMPLE_RATE
        return {"excerpts": len(self.items), "performance_count": self.performance_count,
                "seconds_each": seconds, "samples_each": self.items[0].length,
                "files": len({e.path for e in self.items})}

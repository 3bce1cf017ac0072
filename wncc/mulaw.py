"""Mu-law companding (ITU-T G.711 style formula, mu = 255) and 256-class quantisation.

``compress``/``expand`` are the continuous maps on [-1, 1] (librosa's ``mu_compress``/``mu_expand``
with ``quantize=False``). ``encode`` rounds the compressed value to the nearest of ``mu + 1``
equally spaced levels, so class ``c`` stands for ``y = 2 c / mu - 1``; silence (0.0) maps to class
128 (127.5 rounds up), which is why the vocoder's first input is 128.
"""

from __future__ import annotations

import numpy as np

MU = 255
SILENCE = 128


def compress(x: np.ndarray, mu: int = MU) -> np.ndarray:
    """sign(x) * ln(1 + mu |x|) / ln(1 + mu), x clipped to [-1, 1]."""
    x = np.clip(np.asarray(x, dtype=np.float64), -1.0, 1.0)
    return np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)


def expand(y: np.ndarray, mu: int = MU) -> np.ndarray:
    """Inverse of ``compress``: sign(y) * ((1 + mu)^|y| - 1) / mu."""
    y = np.asarray(y, dtype=np.float64)
    return np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu


def encode(audio: np.ndarray, mu: int = MU) -> np.ndarray:
    """Float audio in [-1, 1] -> int64 classes 0..mu (nearest level, ties round up)."""
    y = compress(audio, mu)
    return np.floor((y + 1.0) * 0.5 * mu + 0.5).astype(np.int64)


def decode(classes: np.ndarray, mu: int = MU) -> np.ndarray:
    """Int classes 0..mu -> float64 audio in [-1, 1]."""
    return expand(2.0 * np.asarray(classes, dtype=np.float64) / mu - 1.0, mu)

"""Reproducible sampling: PCG32, the Gumbel-max trick through a fixed table, mu-law decoding.

The stream is part of the specification, so a seed gives the same samples on every target:

* PCG32 (XSH-RR, 64-bit state), seeded as pcg32_srandom(seed, STREAM).
* Temperature 0 is greedy: argmax of the logits, no random numbers drawn.
* Otherwise one draw per class c = 0..255, in order: g = GUMBEL[u >> 22] (a 1024-entry table of
  Gumbel quantiles -ln(-ln((i + 0.5) / 1024)) rounded to float32), score = logit + T * g in float32
  (multiply, round, add, round), and the class is the first index of the largest score.
* Integer models sample with integers only: score = 256 * (q - zp) + GQ[u >> 22], where
  GQ = round_half_even(T * G) (float32 multiply, clamped to +-2^22) is computed once per
  temperature from the float32 table G = gumbel * 256 / logit_scale; same draws, same argmax.
* The chosen class becomes the next input and is decoded to 16-bit PCM through a table
  (wncc/arith/heads.py: mu-law or linear companding; the mixture and Gaussian heads too).
"""

from __future__ import annotations

import numpy as np

from wncc.arith.qmath import round_f32

MASK64 = (1 << 64) - 1
MULT = 6364136223846793005
STREAM = 0xDA3E39CB94B95BDB
GUMBEL_BITS = 10
SILENCE_CLASS = 128  # first input class of a sequence: mu-law encoding of 0.0


class Pcg32:
    """PCG32 (XSH-RR) with Python integers; matches wn_pcg32_* in runtime_c."""

    def __init__(self, seed: int, stream: int = STREAM) -> None:
        self.inc = ((stream << 1) | 1) & MASK64
        self.state = 0
        self.next()
        self.state = (self.state + (seed & MASK64)) & MASK64
        self.next()

    def next(self) -> int:
        old = self.state
        self.state = (old * MULT + self.inc) & MASK64
        xorshifted = (((old >> 18) ^ old) >> 27) & 0xFFFFFFFF
        rot = old >> 59
        return ((xorshifted >> rot) | (xorshifted << ((-rot) & 31))) & 0xFFFFFFFF


def gumbel_table() -> np.ndarray:
    n = 1 << GUMBEL_BITS
    u = (np.arange(n, dtype=np.float64) + 0.5) / n
    return (-np.log(-np.log(u))).astype(np.float32)


_GUMBEL = gumbel_table()


def gumbel_scaled(logit_scale: float) -> np.ndarray:
    """G: the Gumbel table in units of 1/256 of a logit step (float32)."""
    return (gumbel_table().astype(np.float64) * 256.0 / logit_scale).astype(np.float32)


def gumbel_for_temperature(g_scaled: np.ndarray, temperature: float) -> np.ndarray:
    """GQ: the integer noise table for one temperature."""
    return round_f32(np.float32(temperature) * g_scaled)


def sample_int(logits: np.ndarray, zero_point: int, gq: np.ndarray | None, rng: Pcg32) -> int:
    """One class from integer logits; gq None means greedy (no draws)."""
    q = np.asarray(logits, dtype=np.int64)
    if gq is None:
        return int(np.argmax(q))
    idx = np.array([rng.next() >> (32 - GUMBEL_BITS) for _ in range(len(q))])
    return int(np.argmax((q - zero_point) * 256 + gq[idx]))


def sample(logits: np.ndarray, temperature: np.float32, rng: Pcg32) -> int:
    """One class from float32 logits; draws len(logits) numbers from rng unless greedy."""
    logits = np.asarray(logits, dtype=np.float32)
    if temperature == 0:
        return int(np.argmax(logits))
    idx = np.array([rng.next() >> (32 - GUMBEL_BITS) for _ in range(len(logits))])
    score = logits + np.float32(temperature) * _GUMBEL[idx]
    return int(np.argmax(score))

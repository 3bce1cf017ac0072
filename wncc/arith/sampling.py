"""Reproducible sampling: PCG32, two exact class samplers, mu-law decoding.

The stream is part of the specification, so a seed gives the same samples on every target:

* PCG32 (XSH-RR, 64-bit state), seeded as pcg32_srandom(seed, STREAM).
* Temperature 0 is greedy: argmax of the logits (the first largest), no random numbers drawn.
* ``cdf`` (the default sampler): one draw per sample against the classes' cumulative weights.
  A class's weight is round(2^15 exp(-x)) with x its distance below the largest logit in units
  of the temperature (``cdf_weight``: the libm-free exp of wncc/arith/mathf.py, then
  float32 multiply by 2^15, add 0.5, truncate; 0 where x >= 40 or x is NaN). Float models:
  x = (max - logit) * (1 / T) in float32, logits compared in order (NaNs never win). Integer
  models use integers only: with d = max q - q (0..65535) and step = logit_scale / T (float32),
  weight = (HI[d >> 8] * LO[d & 255] + 2^14) >> 15 from two 256-entry tables computed once per
  temperature, LO[i] = cdf_weight(step * i) and HI[j] = cdf_weight(step * 256 j) (8-bit logits
  read LO[d] alone: HI[0] = 2^15). The draw r is uniform in [0, total) by Lemire's
  multiply-and-reject on 32-bit draws (exactly uniform; a second draw is taken only when the
  first falls in the rejected sliver), and the class is the first whose running sum of weights
  exceeds r. A total of 0 (all weights underflowed, or NaN / infinite logits) takes the argmax.
* ``gumbel`` (``--sampler gumbel``): one draw per class c = 0..Q-1, in order:
  g = GUMBEL[u >> 22] (a 1024-entry table of Gumbel quantiles -ln(-ln((i + 0.5) / 1024)) rounded
  to float32), score = logit + T * g in float32 (multiply, round, add, round), and the class is
  the first index of the largest score. Integer models: score = 256 * (q - zp) + GQ[u >> 22],
  where GQ = round_half_even(T * G) (float32 multiply, clamped to +-2^22) is computed once per
  temperature from the float32 table G = gumbel * 256 / logit_scale; same draws, same argmax.
* The chosen class becomes the next input and is decoded to 16-bit PCM through a table
  (wncc/arith/heads.py: mu-law or linear companding; the mixture and Gaussian heads too).
"""

from __future__ import annotations

import numpy as np

from wncc.arith import mathf
from wncc.arith.qmath import round_f32

MASK64 = (1 << 64) - 1
MULT = 6364136223846793005
STREAM = 0xDA3E39CB94B95BDB
GUMBEL_BITS = 10
SILENCE_CLASS = 128  # first input class of a sequence: mu-law encoding of 0.0
SAMPLERS = ("cdf", "gumbel")  # the first is the default
CDF_BITS = 15  # class weights in units of 2^-15 of the most likely class's
CDF_LIMIT = np.float32(40.0)  # exp(-40) * 2^15 < 0.5: weight 0 from here on
CDF_TABLE = 256  # entries of each integer weight table (LO, HI)


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


# -- the cdf sampler -------------------------------------------------------------------------
def cdf_weight(x: np.ndarray) -> np.ndarray:
    """round(2^15 exp(-x)) for float32 x >= 0, as the C computes it; 0 for x >= 40 or NaN."""
    x = np.asarray(x, dtype=np.float32)
    inside = x < CDF_LIMIT  # False for NaN
    e = mathf.exp_neg(np.where(inside, -x, np.float32(0.0)))
    w = np.floor(e * np.float32(1 << CDF_BITS) + np.float32(0.5)).astype(np.int64)
    return np.where(inside, w, 0)


def cdf_tables(logit_scale: float, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """LO, HI: the integer weight tables for one temperature (> 0)."""
    step = np.float32(np.float32(logit_scale) / np.float32(temperature))
    i = np.arange(CDF_TABLE)
    with np.errstate(invalid="ignore", over="ignore"):
        lo = cdf_weight(step * i.astype(np.float32))
        hi = cdf_weight(step * (i * CDF_TABLE).astype(np.float32))
    return lo, hi


def below(rng: Pcg32, n: int) -> int:
    """Uniform in [0, n) for 1 <= n < 2^32: Lemire's multiply-and-reject on 32-bit draws."""
    m = rng.next() * n
    if (m & 0xFFFFFFFF) < n:
        threshold = ((1 << 32) - n) % n
        while (m & 0xFFFFFFFF) < threshold:
            m = rng.next() * n
    return m >> 32


def _pick(weights: np.ndarray, first_max: int, rng: Pcg32) -> int:
    total = int(weights.sum())
    if total == 0:
        return first_max
    return int(np.searchsorted(np.cumsum(weights), below(rng, total), side="right"))


def sample_cdf_int(logits: np.ndarray, lo: np.ndarray | None, hi: np.ndarray | None,
                   rng: Pcg32) -> int:
    """One class from integer logits by the cdf sampler; lo None means greedy (no draws)."""
    q = np.asarray(logits, dtype=np.int64)
    first_max = int(np.argmax(q))
    if lo is None:
        return first_max
    d = q[first_max] - q
    return _pick((hi[d >> 8] * lo[d & 0xFF] + (1 << (CDF_BITS - 1))) >> CDF_BITS, first_max, rng)


def sample_cdf(logits: np.ndarray, temperature: np.float32, rng: Pcg32) -> int:
    """One class from float32 logits by the cdf sampler (one draw, or none when greedy)."""
    logits = np.asarray(logits, dtype=np.float32)
    if np.isnan(logits[0]):
        top, first_max = np.float32(np.nan), 0
    else:
        top = np.float32(np.nanmax(logits))
        first_max = int(np.flatnonzero(logits == top)[0])
    if temperature == 0:
        return first_max
    with np.errstate(invalid="ignore", over="ignore"):
        x = (top - logits) * (np.float32(1.0) / np.float32(temperature))
    return _pick(cdf_weight(x), first_max, rng)


def draw(logits: np.ndarray, temperature: np.float32, rng: Pcg32, sampler: str) -> int:
    """One class from float32 logits by the named sampler."""
    if sampler == "cdf":
        return sample_cdf(logits, temperature, rng)
    return sample(logits, temperature, rng)

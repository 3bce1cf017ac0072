"""The output end of the sample loop: from the head's output to the next sample, its value and
its 16-bit PCM. The specification that runtime_c/ref/wn_sample.c reproduces bit for bit.

Every step is one float32 operation (round to nearest even) in the order written here; exp and
log are wncc/arith/mathf.py's (wn_mathf.h), never libm. Random numbers come from the one PCG32
stream of wncc/arith/sampling.py, drawn in the order below; temperature 0 draws nothing.

Categorical over Q classes (sampling.py): the cdf sampler (one draw) or Gumbel-max (one draw per
class), as the head's ``sampler`` says. The class's value is
mu-law (mu = Q - 1) or linear: y = 2c / (Q - 1) - 1, x = sign(y) ((1 + mu)^|y| - 1) / mu or
x = y, computed in float64 and rounded to float32 (VALUE table); PCM comes from the int16 table
round(32767 x) unless a de-emphasis filter runs (below).

Discretized mixture of logistics (r9y9 layout: K logit weights, K means, K log scales, K = Q/3):
  1. component c drawn from the K weights as a class is, by the head's sampler (temperature T
     as for classes); T = 0: the first largest weight, no draws;
  2. log_s = max(log_scales[c], log_scale_min) (NaN -> log_scale_min);
  3. one draw r: u = (2 (r >> 9) + 1) * 2^-24, exactly representable, in (0, 1);
     l = log(u) - log(1 - u) (1 - u is exact); x = mean[c] + exp(log_s) * (T * l);
     T = 0: x = mean[c], no draw;
  4. x clamped to [-1, 1] (NaN -> -1).
Gaussian (mean, log scale): log_s clamped as above; z ~ N(0, 1) by Marsaglia's polar method:
  draw r1, r2; u = (2 (r1 >> 9) + 1 - 2^23) * 2^-23, v likewise (odd multiples of 2^-23 in
  (-1, 1), exact); s = u * u + v * v; if s >= 1 draw again; z = u * exp(0.5 * log(-2 log(s) / s));
  x = mean + exp(log_s) * (T * z), clamped; T = 0: x = mean, no draws.
Integer models sample a mixture or Gaussian from dequantized outputs: y = scale * (q - zp) in
float32 (scale rounded to float32, q - zp exact).

De-emphasis (optional): d[n] = x[n] + coef * d[n-1] (d[-1] = 0), PCM from d. PCM of a float:
v clamped to [-1, 1] (NaN -> -1), t = v * 32767, rounded half away from zero.
"""

from __future__ import annotations

import numpy as np

from wncc.arith import mathf
from wncc.arith.sampling import Pcg32, draw

F = np.float32
MIXTURE_DRAW_SHIFT = 9  # r >> 9: 23 random bits for a uniform


def _values64(classes: int, companding: str) -> np.ndarray:
    mu = classes - 1
    y = 2.0 * np.arange(classes, dtype=np.float64) / mu - 1.0
    return y if companding == "linear" else np.sign(y) * ((1.0 + mu) ** np.abs(y) - 1.0) / mu


def value_table(classes: int, companding: str = "mulaw") -> np.ndarray:
    """The value in [-1, 1] of each class, float32."""
    return _values64(classes, companding).astype(F)


def pcm_table(classes: int = 256, companding: str = "mulaw") -> np.ndarray:
    """16-bit PCM of each class: round(32767 x) from the float64 value."""
    return np.round(_values64(classes, companding) * 32767.0).astype(np.int16)


def clamp1(x: np.float32) -> np.float32:
    """x clamped to [-1, 1], NaN to -1 (the C's comparisons)."""
    if not x >= F(-1.0):
        return F(-1.0)
    return F(1.0) if x > F(1.0) else F(x)


def pcm16(v: np.ndarray) -> np.ndarray:
    """16-bit PCM of float32 values: clamp, times 32767, round half away from zero."""
    v = np.asarray(v, dtype=F)
    v = np.where(v >= F(-1.0), v, F(-1.0))
    t = np.where(v > F(1.0), F(1.0), v).astype(F) * F(32767.0)
    return np.trunc(np.where(t < 0, t - F(0.5), t + F(0.5))).astype(np.int16)


def deemphasis(x: np.ndarray, coef: float, d: np.float32 = F(0.0)) -> np.ndarray:
    """d[n] = x[n] + coef * d[n-1] in float32, from d[-1] = d (0: at rest)."""
    c = F(coef)
    out = np.empty(len(x), F)
    for i, v in enumerate(np.asarray(x, F)):
        d = F(v + F(c * d))
        out[i] = d
    return out


def _uniform_open(r: int) -> np.float32:
    return F(2 * (r >> MIXTURE_DRAW_SHIFT) + 1) * F(2.0 ** -24)


def _uniform_signed(r: int) -> np.float32:
    return F(2 * (r >> MIXTURE_DRAW_SHIFT) + 1 - (1 << 23)) * F(2.0 ** -23)


def _log_scale(log_s: np.float32, log_scale_min: float) -> np.float32:
    lo = F(log_scale_min)
    return F(log_s) if log_s >= lo else lo


def normal(rng: Pcg32) -> np.float32:
    """N(0, 1) by the polar method (a variable number of draws, two per try)."""
    while True:
        u = _uniform_signed(rng.next())
        v = _uniform_signed(rng.next())
        s = F(F(u * u) + F(v * v))
        if s < F(1.0):
            y = F(F(F(-2.0) * mathf.log(s)) / s)
            return F(u * mathf.exp(F(F(0.5) * mathf.log(y))))


def sample_mol(y: np.ndarray, log_scale_min: float, temperature: np.float32, rng: Pcg32,
               sampler: str) -> np.float32:
    """One value from a mixture of logistics [3K] (float32); the component by ``sampler``."""
    y = np.asarray(y, dtype=F)
    k = y.size // 3
    c = draw(y[:k], temperature, rng, sampler)
    x = y[k + c]
    if temperature != 0:
        scale = mathf.exp(_log_scale(y[2 * k + c], log_scale_min))
        u = _uniform_open(rng.next())
        logistic = F(mathf.log(u) - mathf.log(F(F(1.0) - u)))
        x = F(x + F(scale * F(F(temperature) * logistic)))
    return clamp1(x)


def sample_gaussian(y: np.ndarray, log_scale_min: float, temperature: np.float32, rng: Pcg32
                    ) -> np.float32:
    """One value from a Gaussian [mean, log scale] (float32)."""
    y = np.asarray(y, dtype=F)
    x = y[0]
    if temperature != 0:
        scale = mathf.exp(_log_scale(y[1], log_scale_min))
        x = F(x + F(scale * F(F(temperature) * normal(rng))))
    return clamp1(x)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Integer head outputs as float32: scale * (q - zp)."""
    return F(scale) * (np.asarray(q, np.int64) - zero_point).astype(F)

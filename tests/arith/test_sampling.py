"""The cdf sampler draws from the softmax of the logits at the temperature: chi-square tests of
its sampled distribution on fixed logits (float, 8-bit and 16-bit integer), the uniformity of the
bounded draw, and its cost in random numbers (one per sample)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from wncc.arith.sampling import (Pcg32, below, cdf_tables, cdf_weight, sample, sample_cdf,
                                 sample_cdf_int)

DRAWS = 12000


def _chi_square_p(counts: np.ndarray, p: np.ndarray) -> float:
    """p-value of the counts against probabilities p, bins with expected < 5 pooled."""
    expected = p * counts.sum()
    small = expected < 5
    obs = np.append(counts[~small], counts[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    keep = exp > 0
    return float(stats.chisquare(obs[keep], exp[keep] * obs[keep].sum() / exp[keep].sum()).pvalue)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_float_cdf_draws_the_softmax(temperature):
    logits = (np.random.default_rng(1).standard_normal(256) * 2.5).astype(np.float32)
    rng = Pcg32(3)
    counts = np.bincount([sample_cdf(logits, np.float32(temperature), rng) for _ in range(DRAWS)],
                         minlength=256)
    assert _chi_square_p(counts, _softmax(logits.astype(np.float64) / temperature)) > 1e-3


@pytest.mark.parametrize("dtype, scale", [(np.int8, 0.06), (np.int16, 0.0004)])
def test_integer_cdf_draws_the_softmax(dtype, scale):
    info = np.iinfo(dtype)
    q = np.random.default_rng(2).integers(info.min, info.max + 1, 256).astype(dtype)
    q[:40] = info.max - np.arange(40) * (3 if dtype == np.int8 else 300)  # a head of likely classes
    lo, hi = cdf_tables(scale, 1.0)
    rng = Pcg32(4)
    counts = np.bincount([sample_cdf_int(q, lo, hi, rng) for _ in range(DRAWS)], minlength=256)
    assert _chi_square_p(counts, _softmax(scale * q.astype(np.float64))) > 1e-3


def test_a_wrong_distribution_is_detected():
    """The test above can fail: the softmax at another temperature is rejected."""
    logits = (np.random.default_rng(1).standard_normal(256) * 2.5).astype(np.float32)
    rng = Pcg32(3)
    counts = np.bincount([sample_cdf(logits, np.float32(1.0), rng) for _ in range(DRAWS)],
                         minlength=256)
    assert _chi_square_p(counts, _softmax(logits.astype(np.float64) / 1.2)) < 1e-6


def test_weights_round_two_to_the_fifteen_exp():
    x = np.linspace(0, 45, 20001).astype(np.float32)
    w = cdf_weight(x)
    exact = np.round(32768 * np.exp(-x.astype(np.float64)))
    assert w[0] == 32768 and np.abs(w - exact).max() <= 1 and (w[x >= 40] == 0).all()
    assert cdf_weight(np.float32(np.nan)) == 0 and cdf_weight(np.float32(np.inf)) == 0


@pytest.mark.parametrize("n", [1, 3, 7, 1000003, (1 << 31) + 5])
def test_bounded_draw_is_uniform(n):
    rng = Pcg32(5)
    r = np.array([below(rng, n) for _ in range(DRAWS)])
    assert r.min() >= 0 and r.max() < n
    if n == 1:
        assert (r == 0).all()
    elif n <= 7:
        assert stats.chisquare(np.bincount(r, minlength=n)).pvalue > 1e-3
    else:  # the top and bottom halves, tenths
        assert stats.chisquare(np.bincount(r * 10 // n, minlength=10)).pvalue > 1e-3


def test_one_draw_per_sample_instead_of_one_per_class():
    logits = np.random.default_rng(6).standard_normal(256).astype(np.float32)
    counted = {}
    for name, fn in (("cdf", sample_cdf), ("gumbel", sample)):
        rng = Pcg32(8)
        for _ in range(100):
            fn(logits, np.float32(1.0), rng)
        probe, draws = Pcg32(8), 0
        while (probe.state, probe.inc) != (rng.state, rng.inc):
            probe.next()
            draws += 1
        counted[name] = draws
    assert 100 <= counted["cdf"] <= 101 and counted["gumbel"] == 25600

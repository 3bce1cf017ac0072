"""The sampling heads' arithmetic (wncc/arith/heads.py, mathf log/exp): accuracy of the libm-free
functions, the distributions they draw from, PCM rounding and de-emphasis."""

from __future__ import annotations

import numpy as np

from wncc.arith import heads, mathf
from wncc.arith.sampling import Pcg32

F = np.float32


def test_log_and_exp_are_accurate():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(2.0 ** -24, 1.0, 20000), rng.uniform(1.0, 1e30, 2000),
                        [2.0 ** -24, 0.5, 1.0, 2.0, 1.0 - 2.0 ** -24]]).astype(F)
    err = np.abs(mathf.log(x).astype(np.float64) - np.log(x.astype(np.float64)))
    assert np.all(err <= 2e-7 * np.maximum(1.0, np.abs(np.log(x.astype(np.float64)))))
    assert mathf.log(F(1.0)) == 0.0
    y = rng.uniform(-87.0, 88.0, 20000).astype(F)
    rel = np.abs(mathf.exp(y).astype(np.float64) / np.exp(y.astype(np.float64)) - 1.0)
    assert rel.max() < 2e-7
    assert mathf.exp(F(200.0)) == mathf.exp(F(88.0)) and np.isfinite(mathf.exp(F(np.nan)))


def test_mixture_draws_the_logistic_of_its_component():
    """One dominant component: mean and standard deviation (s * pi / sqrt(3)) of the draws."""
    mean, log_s = 0.1, np.log(0.02)
    y = np.array([9.0, -9.0, mean, -0.5, log_s, -3.0], F)  # K = 2
    rng = Pcg32(3)
    x = np.array([heads.sample_mol(y, -7.0, F(1.0), rng, "cdf") for _ in range(20000)])
    assert abs(x.mean() - mean) < 0.002
    assert abs(x.std() - 0.02 * np.pi / np.sqrt(3)) < 0.002
    assert heads.sample_mol(y, -7.0, F(0.0), Pcg32(3), "cdf") == F(mean)  # greedy: the mean
    clamped = np.array([9.0, 0.0, 0.5, -0.5, -50.0, -50.0], F)  # log scale below the minimum
    draws = [heads.sample_mol(clamped, -32.23619130191664, F(1.0), rng, "gumbel") for _ in range(200)]
    assert np.ptp(draws) < 1e-6


def test_gaussian_draws_normal_values_clamped_to_one():
    rng = Pcg32(7)
    x = np.array([heads.sample_gaussian(np.array([-0.2, np.log(0.1)], F), -7.0, F(1.0), rng)
                  for _ in range(20000)])
    assert abs(x.mean() + 0.2) < 0.003 and abs(x.std() - 0.1) < 0.003
    z = np.array([heads.normal(rng) for _ in range(20000)])
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03 and abs(np.mean(z ** 3)) < 0.1
    wide = [heads.sample_gaussian(np.array([0.9, 2.0], F), -7.0, F(1.0), rng) for _ in range(100)]
    assert max(wide) == 1.0 and min(wide) == -1.0


def test_pcm_rounds_half_away_and_clamps():
    v = np.array([0.0, 1.0, -1.0, 2.0, -3.0, np.nan, 0.5 / 32767, -0.5 / 32767, 1.5 / 32767], F)
    assert heads.pcm16(v).tolist() == [0, 32767, -32767, 32767, -32767, -32767, 1, -1, 2]


def test_deemphasis_continues_from_its_state():
    x = np.array([1.0, 0.0, 0.0, 0.5], F)
    whole = heads.deemphasis(x, 0.5)
    np.testing.assert_array_equal(whole, np.array([1.0, 0.5, 0.25, 0.625], F))
    first = heads.deemphasis(x[:2], 0.5)
    np.testing.assert_array_equal(heads.deemphasis(x[2:], 0.5, first[-1]), whole[2:])


def test_companding_tables():
    assert heads.value_table(256)[128] > 0 and heads.value_table(256)[0] == -1.0
    np.testing.assert_array_equal(heads.value_table(5, "linear"), np.array([-1, -0.5, 0, 0.5, 1], F))
    np.testing.assert_array_equal(heads.pcm_table(256), np.round(heads.value_table(256).astype(
        np.float64) * 32767).astype(np.int16))

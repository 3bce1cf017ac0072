"""Mu-law companding: values derived from the formula (and cross-checked once against librosa's
``mu_compress``/``mu_expand`` with ``quantize=False``)."""

import math

import numpy as np
import pytest

from wncc import mulaw


def test_compress_table() -> None:
    x = np.array([-1, -0.5, -0.01, 0, 0.001, 0.1, 0.9, 1.0])
    want = [-1.0, -0.875703068649, -0.228477378077, 0.0, 0.040960920522, 0.59099005682,
            0.981077867554, 1.0]
    np.testing.assert_allclose(mulaw.compress(x), want, atol=1e-10)
    assert mulaw.compress(0.5) == pytest.approx(math.log(128.5) / math.log(256.0), abs=1e-12)


def test_expand_table_and_inverse() -> None:
    y = np.array([-0.75, -0.2, 0.0, 0.3, 0.6])
    want = [-0.247058823529, -0.007966404443, 0.0, 0.016776594679, 0.105323992257]
    np.testing.assert_allclose(mulaw.expand(y), want, atol=1e-10)
    x = np.linspace(-1, 1, 101)
    np.testing.assert_allclose(mulaw.expand(mulaw.compress(x)), x, atol=1e-12)


def test_encode_special_values() -> None:
    got = mulaw.encode(np.array([-1.0, -2.0, 0.0, 1.0, 3.0]))
    assert got.tolist() == [0, 0, 128, 255, 255]
    assert got.dtype == np.int64
    assert mulaw.SILENCE == mulaw.encode(np.zeros(1))[0]
    # level of class c is 2c/255 - 1: class 200 is 145/255 in the compressed domain
    assert mulaw.decode(np.array([200]))[0] == pytest.approx(
        (256.0 ** (145 / 255) - 1) / 255, abs=1e-12)


def test_encode_rounds_to_nearest_class() -> None:
    levels = 2.0 * np.arange(256) / 255 - 1.0
    # just inside either side of the mid-point between class 99 and 100
    mid = (levels[99] + levels[100]) / 2
    x = mulaw.expand(np.array([mid - 1e-9, mid + 1e-9]))
    assert mulaw.encode(x).tolist() == [99, 100]
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, 1000)
    c = mulaw.encode(a)
    dist = np.abs(mulaw.compress(a)[:, None] - levels[None, :])
    assert (c == dist.argmin(axis=1)).all()


def test_round_trip() -> None:
    c = np.arange(256)
    assert (mulaw.encode(mulaw.decode(c)) == c).all()
    x = np.linspace(-1, 1, 2001)
    err = np.abs(mulaw.decode(mulaw.encode(x)) - x)
    # quantisation step of the compressed domain is 2/255; the error grows with |x|
    assert err.max() < 0.032
    assert err[np.abs(x) < 0.01].max() < 2e-4

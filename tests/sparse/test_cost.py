"""The cost model: dense at low sparsity, sparse above a crossover that depends on the target."""

from __future__ import annotations

import dataclasses

import numpy as np

from wncc.sparse.cost import choose
from wncc.targets import load


def _matrix(sparsity: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = rng.integers(-127, 128, (128, 128))
    return m * (rng.random(m.shape) >= sparsity)


def _crossover(target, bits: int = 8) -> float:
    for s in np.arange(0.0, 1.0, 0.05):
        if choose(_matrix(float(s)), bits, target).fmt.kind != "dense":
            return float(s)
    return 1.0


def test_dense_at_low_sparsity_sparse_at_high():
    host = load("host")
    assert choose(_matrix(0.1), 8, host).fmt.kind == "dense"
    high = choose(_matrix(0.95), 8, host)
    assert high.fmt.kind != "dense" and "nonzero" in high.reason and "score" in high.reason
    assert set(high.candidates) >= {"dense", "csr", "bitmask", "bsr:4x4"}


def test_crossover_moves_with_the_target():
    host = load("host")
    simd = dataclasses.replace(host, name="wide-simd", features=("avx2",))
    micro = dataclasses.replace(host, name="cortex-m-like", features=("dsp",), arch="armv7e-m")
    c_host, c_simd, c_micro = _crossover(host), _crossover(simd), _crossover(micro)
    assert c_simd > c_host  # a fast dense kernel needs more zeros before sparse pays
    assert c_micro < c_simd  # flash weighs more on a microcontroller
    # the format itself changes with the pattern: block-pruned weights go to bsr
    rng = np.random.default_rng(3)
    keep = np.kron(rng.random((32, 32)) > 0.9, np.ones((4, 4), bool))
    blocky = rng.integers(1, 128, (128, 128)) * keep
    assert choose(blocky, 8, host).fmt.kind == "bsr"


def test_forced_format_is_kept():
    from wncc.sparse.formats import parse
    c = choose(_matrix(0.1), 8, load("host"), forced=parse("csr"))
    assert c.fmt.kind == "csr" and c.reason.startswith("forced")

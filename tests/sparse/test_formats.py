"""Sparse formats: exact round trip, narrow index types, stored bytes."""

from __future__ import annotations

import numpy as np
import pytest

from wncc.errors import WnccError
from wncc.sparse.formats import Format, decode, encode, parse


def _pruned(rng, shape, sparsity, block=(1, 1)):
    r, c = block
    keep = rng.random((shape[0] // r, shape[1] // c)) > sparsity
    mask = np.kron(keep, np.ones(block, bool))
    return (rng.integers(-127, 128, shape) * mask).astype(np.int64)


@pytest.mark.parametrize("fmt", ["dense", "csr", "bitmask", "bsr:4x4", "bsr:1x4", "bsr:16x1"])
def test_round_trip(fmt):
    rng = np.random.default_rng(1)
    m = _pruned(rng, (32, 48), 0.8)
    enc = encode(m, parse(fmt), 8)
    np.testing.assert_array_equal(decode(enc), m)


def test_index_types_and_bytes():
    rng = np.random.default_rng(2)
    m = _pruned(rng, (64, 128), 0.9, block=(4, 4))
    csr = encode(m, parse("csr"), 8)
    assert csr.arrays["col"].dtype == np.uint8 and csr.arrays["row_ptr"].dtype == np.uint16
    assert csr.value_bytes() == np.count_nonzero(m)
    assert csr.index_bytes() == np.count_nonzero(m) + 2 * 65
    bsr = encode(m, parse("bsr:4x4"), 8)
    assert bsr.nnz == 16 * (bsr.arrays["col"].size) and bsr.arrays["row_ptr"].size == 17
    assert bsr.index_bytes() < csr.index_bytes() / 10
    bitmask = encode(m, parse("bitmask"), 4)
    assert bitmask.arrays["mask"].size == 64 * 16 and bitmask.value_bytes() == -(-np.count_nonzero(m) // 2)
    wide = encode(np.eye(300, 300, dtype=np.int64), parse("csr"), 8)
    assert wide.arrays["col"].dtype == np.uint16


def test_bad_formats():
    with pytest.raises(WnccError, match="unknown sparse format"):
        parse("coo")
    with pytest.raises(WnccError, match="does not divide"):
        encode(np.ones((6, 8)), Format("bsr", (4, 4)), 8)

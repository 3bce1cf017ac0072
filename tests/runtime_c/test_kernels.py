"""Reference C kernels against the golden model's numpy ops: equal bit for bit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cffi
import numpy as np
import pytest

from wncc.arith import mathf
from wncc.ir import Node
from wncc.ops.base import Eval
from wncc.ops.conv import taps_float
from wncc.ops.convt import ConvT
from wncc.arith.sampling import (Pcg32, cdf_tables, gumbel_table, sample, sample_cdf,
                                 sample_cdf_int)

RUNTIME = Path(__file__).resolve().parents[2] / "runtime_c"

CDEF = """
typedef struct { uint64_t state; uint64_t inc; } wn_pcg32;
void wn_pcg32_seed(wn_pcg32 *rng, uint64_t seed, uint64_t stream);
uint32_t wn_pcg32_next(wn_pcg32 *rng);
int32_t wn_sample_f32(const float *logits, int32_t n, float temperature, wn_pcg32 *rng,
                      const float *gumbel);
void wn_cdf_table(uint32_t *table, int32_t n, float step, int32_t unit);
int32_t wn_sample_cdf_f32(const float *logits, int32_t n, float temperature, wn_pcg32 *rng);
int32_t wn_sample_cdf_s8(const int8_t *logits, int32_t n, const uint32_t *lo, wn_pcg32 *rng);
int32_t wn_sample_cdf_s16(const int16_t *logits, int32_t n, const uint32_t *lo,
                          const uint32_t *hi, wn_pcg32 *rng);
void wn_conv_f32(float *y, const float *x, const float *w, const float *b, int32_t cin, int32_t cout);
void wn_conv_ring_f32(float *y, float *ring, int32_t *pos, const float *x, const float *w,
                      const float *b, int32_t cin, int32_t cout, int32_t kernel,
                      int32_t dilation, int32_t ring_len);
void wn_convt_f32(float *table, const float *x, const float *w, const float *b, int32_t cin,
                  int32_t cout, int32_t hop);
void wn_tanh_f32(float *y, const float *x, int32_t n);
void wn_sigmoid_f32(float *y, const float *x, int32_t n);
"""


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    out = tmp_path_factory.mktemp("rt") / "librt.so"
    srcs = sorted(str(p) for p in (RUNTIME / "ref").glob("*.c"))
    subprocess.run(["cc", "-std=c99", "-O2", "-ffp-contract=off", "-fPIC", "-shared",
                    f"-I{RUNTIME / 'include'}", f"-I{RUNTIME / 'ref'}", "-o", str(out), *srcs],
                   check=True)
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    return ffi, ffi.dlopen(str(out))


def _f(ffi, a: np.ndarray):
    return ffi.from_buffer("float[]", a)


def test_tanh_sigmoid_bit_exact(lib):
    ffi, c = lib
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-100, 100, 400001), rng.standard_normal(200000) * 4,
                        [0.0, -0.0, 1e-30, -1e-30, 9.0, -9.0, 80.0, -80.0, 1e30, -1e30,
                         np.inf, -np.inf, np.nan]]).astype(np.float32)
    for fn, ref in ((c.wn_tanh_f32, mathf.tanh), (c.wn_sigmoid_f32, mathf.sigmoid)):
        y = np.empty_like(x)
        fn(_f(ffi, y), _f(ffi, x), x.size)
        np.testing.assert_array_equal(y.view(np.uint32), ref(x).view(np.uint32))
        assert y[-1] == 1.0 and y[-3] == 1.0  # NaN counts as +inf: defined, no float-to-int of NaN


@pytest.mark.parametrize("cin, cout, k, d", [(1, 1, 2, 1), (7, 5, 2, 3), (16, 33, 3, 4), (5, 8, 1, 1)])
def test_conv_ring_matches_golden_sequence(lib, cin, cout, k, d):
    ffi, c = lib
    rng = np.random.default_rng(cin * 100 + cout)
    w = rng.standard_normal((cout, cin, k)).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    x = rng.standard_normal((cin, 50)).astype(np.float32)
    pad = (k - 1) * d
    xp = np.concatenate([np.zeros((cin, pad), np.float32), x], axis=1)
    ref = taps_float(w, b, [xp[:, j * d: j * d + 50] for j in range(k)])
    wt = np.ascontiguousarray(np.transpose(w, (2, 1, 0)))
    ring_len = pad + 1
    ring = np.zeros(ring_len * cin, np.float32)
    pos = ffi.new("int32_t *", 0)
    y = np.empty(cout, np.float32)
    for t in range(50):
        xt = np.ascontiguousarray(x[:, t])
        c.wn_conv_ring_f32(_f(ffi, y), _f(ffi, ring), pos, _f(ffi, xt), _f(ffi, wt), _f(ffi, b),
                           cin, cout, k, d, ring_len)
        np.testing.assert_array_equal(y, ref[:, t])


def test_convt_matches_golden(lib):
    ffi, c = lib
    rng = np.random.default_rng(2)
    w = rng.standard_normal((7, 3, 5)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    mel = rng.standard_normal(7).astype(np.float32)
    table = np.empty(15, np.float32)
    w2 = np.ascontiguousarray(np.transpose(w, (0, 2, 1)))
    c.wn_convt_f32(_f(ffi, table), _f(ffi, mel), _f(ffi, w2), _f(ffi, b), 7, 3, 5)
    node = Node("convt", "up", ["mel"], ["c"], {"factor": 5}, {"w": w, "b": b})
    want = ConvT().golden(node, [mel[:, None]], Eval(False, "f32", "single"))
    np.testing.assert_array_equal(table.reshape(5, 3), want)


def test_pcg32_and_sampler_match_python(lib):
    ffi, c = lib
    rng = ffi.new("wn_pcg32 *")
    c.wn_pcg32_seed(rng, 123456789, 0xDA3E39CB94B95BDB)
    py = Pcg32(123456789)
    assert [c.wn_pcg32_next(rng) for _ in range(1000)] == [py.next() for _ in range(1000)]
    table = gumbel_table()
    logits = np.random.default_rng(4).standard_normal(256).astype(np.float32)
    for temp in (0.0, 0.5, 1.0):
        crng = ffi.new("wn_pcg32 *")
        c.wn_pcg32_seed(crng, 99, 0xDA3E39CB94B95BDB)
        prng = Pcg32(99)
        got = [c.wn_sample_f32(_f(ffi, logits), 256, temp, crng, _f(ffi, table)) for _ in range(50)]
        want = [sample(logits, np.float32(temp), prng) for _ in range(50)]
        assert got == want


def _streams(ffi, c, seed: int):
    crng = ffi.new("wn_pcg32 *")
    c.wn_pcg32_seed(crng, seed, 0xDA3E39CB94B95BDB)
    return crng, Pcg32(seed)


@pytest.mark.parametrize("temp", [0.0, 1e-30, 0.05, 0.7, 1.0, 3.0, 100.0])
def test_cdf_sampler_f32_matches_python(lib, temp):
    ffi, c = lib
    rng = np.random.default_rng(5)
    cases = [rng.standard_normal(256).astype(np.float32) * 4,
             np.zeros(256, np.float32),  # ties: every class equally likely
             np.array([1.0, np.nan, 3.0, 3.0, -np.inf], np.float32),
             np.array([np.nan, 2.0, 1.0], np.float32),
             np.array([0.0, np.inf, 1.0, np.inf], np.float32),
             rng.standard_normal(10).astype(np.float32)]  # a mixture's weights
    for i, logits in enumerate(cases):
        crng, prng = _streams(ffi, c, 7 + i)
        got = [c.wn_sample_cdf_f32(_f(ffi, logits), logits.size, temp, crng) for _ in range(200)]
        want = [sample_cdf(logits, np.float32(temp), prng) for _ in range(200)]
        assert got == want
        assert c.wn_pcg32_next(crng) == prng.next()  # the same number of draws


@pytest.mark.parametrize("scale", [0.001, 0.03, 0.2])
@pytest.mark.parametrize("temp", [1e-30, 0.3, 1.0, 2.5, 100.0])
def test_cdf_tables_and_integer_samplers_match_python(lib, scale, temp):
    ffi, c = lib
    lo, hi = cdf_tables(scale, temp)
    step = np.float32(np.float32(scale) / np.float32(temp))
    clo, chi = np.empty(256, np.uint32), np.empty(256, np.uint32)
    c.wn_cdf_table(ffi.from_buffer("uint32_t[]", clo), 256, step, 1)
    c.wn_cdf_table(ffi.from_buffer("uint32_t[]", chi), 256, step, 256)
    np.testing.assert_array_equal(clo, lo)
    np.testing.assert_array_equal(chi, hi)
    rng = np.random.default_rng(int(scale * 1000 + temp))
    q8 = [rng.integers(-128, 128, 256).astype(np.int8), np.full(256, 5, np.int8),
          np.array([-128, 127, -128, 127], np.int8)]
    q16 = [rng.integers(-32768, 32768, 256).astype(np.int16),
           (rng.integers(-400, 400, 256) * 37).astype(np.int16),
           np.array([-32768, 32767, 0, 32767], np.int16)]
    tables = (ffi.from_buffer("uint32_t[]", clo), ffi.from_buffer("uint32_t[]", chi))
    for i, (a, b) in enumerate(zip(q8, q16)):
        crng, prng = _streams(ffi, c, 11 + i)
        got = [c.wn_sample_cdf_s8(ffi.from_buffer("int8_t[]", a), a.size, tables[0], crng)
               for _ in range(100)]
        got += [c.wn_sample_cdf_s16(ffi.from_buffer("int16_t[]", b), b.size, *tables, crng)
                for _ in range(100)]
        got += [c.wn_sample_cdf_s8(ffi.from_buffer("int8_t[]", a), a.size, ffi.NULL, crng)]
        want = [sample_cdf_int(a, lo, hi, prng) for _ in range(100)]
        want += [sample_cdf_int(b, lo, hi, prng) for _ in range(100)]
        want += [sample_cdf_int(a, None, None, prng)]
        assert got == want
        assert c.wn_pcg32_next(crng) == prng.next()

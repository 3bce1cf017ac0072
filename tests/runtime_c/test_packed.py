"""The packed int8 convolutions of runtime_c/avx512_vnni/wn_conv_vnni_s8.c against the reference
kernels of runtime_c/ref/wn_conv_s8.c, for equality, natively (skipped unless this CPU has
AVX-512 VNNI).

Each case is one layer with its tables made the way the code generator makes them: the
reference layout by conv_entries' order ([Cout][K][Cin], int32 biases, per-channel or shared
multipliers) and the packed one by wncc.ops.layout.lanes_entries. Shapes cross every block,
quad and pass boundary (cin 1..200, cout 1..300, 1..3 taps), values reach the ends of int8
(-128 weights included, which symmetric quantization never makes), shifts run from -31 to
positive ones (the saturating branch of single rounding), zero points from -128 to 127; ring
layers step several times so that every tap meets older rows. Both rounding modes.
A corrupted packed weight must be caught (the negative control)."""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from wncc import emulate
from wncc.ops.layout import LANES, PASS, QUAD, lanes_entries, pack_lanes
from wncc.targets import load

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "runtime_c"
SHAPES = [(1, 1, 1), (3, 15, 1), (4, 16, 1), (5, 17, 1), (64, 64, 1), (64, 128, 1),
          (65, 129, 1), (128, 256, 1), (200, 300, 1), (7, 31, 2), (64, 128, 2), (63, 130, 3),
          (128, 256, 2), (1, 1, 3)]


class Rq(ctypes.Structure):
    _fields_ = [("bias", ctypes.c_void_p), ("mult", ctypes.c_void_p), ("shift", ctypes.c_void_p),
                ("zp_out", ctypes.c_int32), ("bias_bytes", ctypes.c_int32),
                ("per_channel", ctypes.c_int32)]


def _build(tmp: Path, single: int) -> ctypes.CDLL:
    target = load("x86-vnni")
    lib = tmp / f"packed{single}.so"
    cmd = [target.cc, "-std=c99", *target.cflags, "-Wall", "-Wextra", "-Werror", "-fPIC",
           "-shared", f"-DWN_SINGLE_ROUNDING={single}", f"-I{RUNTIME / 'include'}",
           f"-I{RUNTIME / 'ref'}", str(RUNTIME / "ref" / "wn_conv_s8.c"),
           str(RUNTIME / "avx512_vnni" / "wn_conv_vnni_s8.c"), "-o", str(lib)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return ctypes.CDLL(str(lib))


@pytest.fixture(scope="module")
def libs(tmp_path_factory) -> dict[int, ctypes.CDLL]:
    target = load("x86-vnni")
    lacking = [f for f in target.cpu_flags if f not in emulate.host_cpu_flags()]
    if lacking:
        pytest.skip(f"this CPU lacks {', '.join(lacking)}")
    tmp = tmp_path_factory.mktemp("packed")
    return {single: _build(tmp, single) for single in (0, 1)}


def _ptr(a: np.ndarray) -> ctypes.c_void_p:
    return ctypes.c_void_p(a.ctypes.data)


def _layer(rng: np.random.Generator, cin: int, cout: int, taps: int, extreme: bool):
    """(q, weights [cout, taps, cin], zp_out, per_channel)"""
    if extreme:
        w = rng.choice(np.array([-128, -127, 127, 0], np.int8), (cout, taps, cin))
    else:
        w = rng.integers(-128, 128, (cout, taps, cin)).astype(np.int8)
    per_channel = bool(rng.integers(0, 2))
    n = cout if per_channel else 1
    mult = rng.integers(1 << 30, (1 << 31) - 1, n).astype(np.int64)
    # around the shift that maps a typical accumulator onto int8 (outputs vary), some far below
    # it (all zero point) and some positive (single rounding's saturating branch)
    typical = int(np.log2(128 * 128 * np.sqrt(cin * taps)))
    shift = np.clip(rng.integers(-typical + 2, -typical + 12, n), -31, 30)
    shift[rng.random(n) < 0.1] = rng.integers(-31, 4)
    shift = shift.astype(np.int64)
    bias = rng.integers(-(1 << 20), 1 << 20, cout).astype(np.int64)
    zp = int(rng.integers(-128, 128))
    return SimpleNamespace(bias=bias, mult=mult, shift=shift), w, zp, per_channel


def _tables(q, w: np.ndarray, zp: int, per_channel: bool, packed: bool):
    """(weights, bias, mult, shift arrays kept alive, the wn_rq)"""
    if packed:
        arrays = [values for _, _, values, _, _ in lanes_entries(q, w)]
        per_channel = True
    else:
        arrays = [np.ascontiguousarray(w).reshape(-1), q.bias.astype(np.int32),
                  q.mult.astype(np.int32), q.shift.astype(np.int8)]
    rq = Rq(_ptr(arrays[1]), _ptr(arrays[2]), _ptr(arrays[3]), zp, 4, int(per_channel))
    return arrays, rq


def _run(lib: ctypes.CDLL, packed: bool, q, w: np.ndarray, zp: int, per_channel: bool,
         xs: list[np.ndarray], corrupt: bool = False) -> np.ndarray:
    """The outputs of one layer over the inputs xs (a ring layer steps through them)."""
    cout, taps, cin = w.shape
    arrays, rq = _tables(q, w, zp, per_channel, packed)
    if corrupt:
        arrays[0][0] ^= 0x40  # row 0's first weight
    y = np.zeros(cout, np.int8)
    outs = []
    ring_len, dilation = (taps - 1) * 2 + 1, 2
    ring = np.zeros(ring_len * cin, np.int8)
    pos = ctypes.c_int32(ring_len - 1)
    for x in xs:
        if taps == 1:
            fn = lib.wn_conv_vnni_s8 if packed else lib.wn_conv_s8
            fn(_ptr(y), _ptr(x), _ptr(arrays[0]), ctypes.byref(rq), cin, cout)
        else:
            fn = lib.wn_conv_ring_vnni_s8 if packed else lib.wn_conv_ring_s8
            fn(_ptr(y), _ptr(ring), ctypes.byref(pos), _ptr(x), _ptr(arrays[0]),
               ctypes.byref(rq), cin, cout, taps, dilation, ring_len)
        outs.append(y.copy())
    return np.stack(outs)


@pytest.mark.parametrize("single", [1, 0], ids=["single", "double"])
def test_packed_equals_reference(libs, single):
    lib = libs[single]
    rng = np.random.default_rng(single)
    varied = 0
    for case, (cin, cout, taps) in enumerate(SHAPES * 3):
        q, w, zp, per_channel = _layer(rng, cin, cout, taps, extreme=case % 3 == 1)
        fill = [-128, 127] if case % 3 == 2 else None
        xs = [(rng.choice(np.array(fill, np.int8), cin) if fill else
               rng.integers(-128, 128, cin).astype(np.int8)) for _ in range(6)]
        ref = _run(lib, False, q, w, zp, per_channel, xs)
        got = _run(lib, True, q, w, zp, per_channel, xs)
        assert np.array_equal(got, ref), (cin, cout, taps, per_channel, case)
        varied += len(np.unique(ref)) > 8
    assert varied >= len(SHAPES) * 2  # most cases are not all one saturated value


def test_corrupted_packed_weight_is_caught(libs):
    rng = np.random.default_rng(7)
    q, w, zp, per_channel = _layer(rng, 64, 128, 1, extreme=False)
    q.shift[:], q.bias[:] = -9, 0  # outputs within range, where 64 units of a weight show
    xs = [np.full(64, 127, np.int8)]
    ref = _run(libs[1], False, q, w, zp, per_channel, xs)
    assert not np.array_equal(_run(libs[1], True, q, w, zp, per_channel, xs, corrupt=True), ref)


def test_pack_lanes_order():
    """Entry (pass, segment, quad, block, lane, byte) holds w[row, segment, 4 * quad + byte]."""
    rng = np.random.default_rng(0)
    cout, segments, n = 300, 2, 7
    w = rng.integers(-128, 128, (cout, segments, n)).astype(np.int8)
    packed = pack_lanes(w)
    blocks, quads = -(-cout // LANES), -(-n // QUAD)
    assert packed.size == blocks * LANES * segments * quads * QUAD
    at = 0
    for first in range(0, blocks, PASS):
        nb = min(PASS, blocks - first)
        for s in range(segments):
            for j in range(quads):
                for b in range(nb):
                    for lane in range(LANES):
                        row = (first + b) * LANES + lane
                        for byte in range(QUAD):
                            col = QUAD * j + byte
                            want = w[row, s, col] if row < cout and col < n else 0
                            assert packed[at] == want
                            at += 1
    assert at == packed.size


def test_packed_bias_takes_off_the_activation_offset():
    """sum (x + 128) * w + bias' == sum x * w + bias, modulo 2^32, for every row."""
    rng = np.random.default_rng(1)
    w = rng.integers(-128, 128, (20, 1, 9)).astype(np.int8)
    q = SimpleNamespace(bias=rng.integers(-(1 << 31), 1 << 31, 20), mult=np.array([1 << 30]),
                        shift=np.array([-3]))
    bias = lanes_entries(q, w)[1][2].astype(np.int64)
    x = rng.integers(-128, 128, 9)
    lhs = (w[:, 0, :].astype(np.int64) @ (x + 128)) + bias[:20]
    rhs = w[:, 0, :].astype(np.int64) @ x + q.bias
    assert np.all((lhs - rhs) % (1 << 32) == 0)
    assert np.all(bias[20:] == 0)

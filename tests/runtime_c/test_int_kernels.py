"""Integer reference kernels against the golden arithmetic, on the edges: negative ties,
INT32_MIN saturation, shifts at both extremes, zero points at both ends, odd channel counts,
int4 packing with odd lengths; random shapes for every conv variant.

The same kernel files are also built with the x86 targets' vector hooks (wn_dot_isa.h of x86 and
x86-vnni: four-row dots, four-channel requantization, the bulk of the int8 add and gate) where
this CPU runs them: every golden test runs on those builds too (-m long), and the add and the
gate are compared with the portable build on random parameters."""

from __future__ import annotations

import subprocess
import zlib
from pathlib import Path

import cffi
import numpy as np
import pytest

from wncc import emulate
from wncc.arith import qmath
from wncc.arith.params import ConvQ, QuantizeQ
from wncc.arith.qmath import INT32_MAX, INT32_MIN, quantize_multiplier
from wncc.ops.add import Add, add_params
from wncc.ops.base import Eval
from wncc.ops.conv import taps_int
from wncc.ops.layout import narrow_bias, pack_int4, shared_requant
from wncc.ops.quantize import quantize_int
from wncc.codegen.project import isa_dot_headers
from wncc.targets import load as load_target

RUNTIME = Path(__file__).resolve().parents[2] / "runtime_c"

CDEF = """
int32_t t_requant(int32_t acc, int32_t mult, int32_t shift);
int32_t t_requant_hi(int32_t acc, int32_t mult, int32_t shift);
int32_t t_requant64(int64_t acc, int32_t mult, int32_t shift);
int32_t t_round_f32(float x);
typedef struct {
    const void *bias; const int32_t *mult; const int8_t *shift;
    int32_t zp_out, bias_bytes, per_channel;
} wn_rq;
void wn_conv_s8(int8_t *y, const int8_t *x, const int8_t *w, const wn_rq *q, int32_t cin, int32_t cout);
void wn_conv_s4(int8_t *y, const int8_t *x, const uint8_t *w, const wn_rq *q, int32_t cin, int32_t cout);
void wn_conv_s16(int16_t *y, const int16_t *x, const int16_t *w, const wn_rq *q, int32_t cin, int32_t cout);
void wn_conv_s8s16(int16_t *y, const int16_t *x, const int8_t *w, const wn_rq *q, int32_t cin, int32_t cout);
void wn_conv_ring_s4(int8_t *y, int8_t *ring, int32_t *pos, const int8_t *x, const uint8_t *w,
                     const wn_rq *q, int32_t cin, int32_t cout, int32_t kernel, int32_t dilation,
                     int32_t ring_len);
typedef struct { int32_t left_shift, a_mult, a_shift, b_mult, b_shift, out_mult, out_shift, zp_a, zp_b, zp_out; } wn_add_q;
void wn_add_s8(int8_t *y, const int8_t *a, const int8_t *b, int32_t n, const wn_add_q *q);
typedef struct { int32_t mult, shift, zp_a, zp_b, zp_out, c; } wn_mul_q;
typedef struct { const int8_t *values; int32_t first, last; } wn_lut8;
void wn_gate_s8(int8_t *y, const int8_t *a, int32_t half, int32_t tanh_at, int32_t sigmoid_at,
                const wn_lut8 *lut_tanh, const wn_lut8 *lut_sigmoid, const wn_mul_q *q);
"""
ISAS = ["portable", "x86", "x86-vnni"]
FFI = cffi.FFI()  # one for every library, so that their structs mix
FFI.cdef(CDEF)

SHIM = """
#include "wn_requant.h"
int32_t t_requant(int32_t acc, int32_t mult, int32_t shift) { return wn_requant(acc, mult, shift); }
int32_t t_requant_hi(int32_t acc, int32_t mult, int32_t shift) { return wn_requant_hi(acc, mult, shift); }
int32_t t_requant64(int64_t acc, int32_t mult, int32_t shift) { return wn_requant64(acc, mult, shift); }
int32_t t_round_f32(float x) { return wn_round_f32(x); }
"""


def _buf(ffi, a: np.ndarray):
    return ffi.from_buffer(f"{a.dtype.name}_t[]", a)


def _build(tmp: Path, single: int, isa: str = "portable"):
    """The kernels built portably, or with an x86 target's flags and vector hooks (skipped
    unless this CPU runs them)."""
    shim = tmp / "shim.c"
    shim.write_text(SHIM)
    out = tmp / f"libint{single}.so"
    srcs = [str(RUNTIME / "ref" / f) for f in ("wn_conv_s8.c", "wn_conv_s4.c", "wn_conv_s16.c",
                                               "wn_conv_s8s16.c", "wn_eltwise_s8.c", "wn_sample.c")]
    flags, includes = ["-O2"], []
    if isa != "portable":
        target = load_target(isa)
        lacking = [f for f in target.cpu_flags if f not in emulate.host_cpu_flags()]
        if lacking:
            pytest.skip(f"this CPU lacks {', '.join(lacking)}")
        for name, text in isa_dot_headers(target).items():
            (tmp / name).write_text(text)
        flags, includes = list(target.cflags), [f"-I{tmp}"]
    subprocess.run(["cc", "-std=c99", *flags, "-fPIC", "-shared", f"-DWN_SINGLE_ROUNDING={single}",
                    "-fsanitize=undefined", "-fno-sanitize-recover=all", *includes,
                    f"-I{RUNTIME / 'include'}", f"-I{RUNTIME / 'ref'}", "-o", str(out), str(shim),
                    *srcs], check=True)
    return FFI, FFI.dlopen(str(out))


@pytest.fixture(scope="module", params=[
    pytest.param((s, isa), marks=[pytest.mark.long] if isa != "portable" else [],
                 id=f"{isa}-{'single' if s else 'double'}") for isa in ISAS for s in (0, 1)])
def lib(request, tmp_path_factory):
    single, isa = request.param
    ffi, c = _build(tmp_path_factory.mktemp(f"int{single}{isa}"), single, isa)
    return ffi, c, "single" if single else "double"


@pytest.fixture(scope="module", params=[pytest.param(0, marks=pytest.mark.long), 1],
                ids=["double", "single"])
def isa_pair(request, tmp_path_factory):
    """(ffi, portable library, x86-vnni library) in one rounding mode."""
    ref_dir = tmp_path_factory.mktemp(f"pair{request.param}ref")
    vnni_dir = tmp_path_factory.mktemp(f"pair{request.param}vnni")
    ffi, ref = _build(ref_dir, request.param)
    _, vnni = _build(vnni_dir, request.param, "x86-vnni")
    return ffi, ref, vnni


def _edge_accs(rng) -> np.ndarray:
    ties = np.array([(2 * k + 1) << 9 for k in range(-64, 64)])  # exact halves for shift -10
    return np.concatenate([[0, 1, -1, INT32_MAX, INT32_MIN, INT32_MIN + 1, 1 << 30, -(1 << 30)],
                           ties, -ties, rng.integers(INT32_MIN, INT32_MAX, 3000)]).astype(np.int64)


def test_requant_edges(lib):
    ffi, c, rounding = lib
    rng = np.random.default_rng(0)
    accs = _edge_accs(rng)
    multipliers = [(1 << 30, -10), (INT32_MAX, -31), (INT32_MAX, 0), (1 << 30, 0),
                   (INT32_MIN + 0, 0) if rounding == "double" else (1 << 30, -1),
                   quantize_multiplier(0.3), quantize_multiplier(2.5e-3), quantize_multiplier(1.7)]
    for mult, shift in multipliers:
        if rounding == "single" and shift > 0:
            continue
        want = qmath.requant(accs, mult, shift, rounding)
        got = np.array([c.t_requant(int(a), mult, shift) for a in accs])
        np.testing.assert_array_equal(got, want, err_msg=f"mult={mult} shift={shift}")
        if rounding == "single" and shift <= 0:  # the elementwise kernels' path without a test
            hi = np.array([c.t_requant_hi(int(a), mult, shift) for a in accs])
            np.testing.assert_array_equal(hi, want, err_msg=f"hi: mult={mult} shift={shift}")


def test_srdhm_int32_min_saturates():
    assert int(qmath.srdhm(INT32_MIN, INT32_MIN)) == INT32_MAX
    assert int(qmath.rdbpot(-3, 1)) == -2 and int(qmath.rdbpot(3, 1)) == 2  # ties away from 0
    assert int(qmath.rdbpot(-5, 2)) == -1 and int(qmath.rdbpot(-6, 2)) == -2


def test_quantize_multiplier_fixups():
    assert quantize_multiplier(0.5) == (1 << 30, 0)
    assert quantize_multiplier(1.0) == (1 << 30, 1)
    q, s = quantize_multiplier(1 - 2 ** -40)  # rounds up to 2^31: halved, shift + 1
    assert (q, s) == (1 << 30, 1)
    assert quantize_multiplier(1e-12) == (0, 0)


def test_requant64_and_rounding(lib):
    ffi, c, _ = lib
    rng = np.random.default_rng(1)
    accs = np.concatenate([[0, 1, -1, (1 << 47) - 1, -(1 << 47)],
                           rng.integers(-(1 << 40), 1 << 40, 2000)]).astype(np.int64)
    for mult, shift in [quantize_multiplier(m) for m in (1e-5, 3e-3, 0.49, 0.9999)] + [(0x7FFFFFFF, -20)]:
        want = qmath.requant64(accs, mult, shift)
        got = np.array([c.t_requant64(int(a), mult, shift) for a in accs])
        np.testing.assert_array_equal(got, want)
    xs = np.concatenate([np.arange(-10, 10) + 0.5, rng.standard_normal(500) * 1e4,
                         [1e9, -1e9, 4194304.5, np.inf, -np.inf, np.nan]]).astype(np.float32)
    want = quantize_int(QuantizeQ(np.float32(1.0), 0), xs, "i16")
    assert want[-1] == 0  # NaN rounds to 0: defined, in C and golden alike
    got = np.clip([c.t_round_f32(float(v)) for v in xs], -32768, 32767)
    np.testing.assert_array_equal(got, want)


def _conv_case(rng, cin, cout, wbits, act, zp_out, bias_bits, shared):
    lo, hi = {8: (-127, 127), 4: (-7, 7), 16: (-32767, 32767)}[wbits]
    w = rng.integers(lo, hi + 1, (cout, cin, 1))
    xlo, xhi = (-128, 127) if act == "i8" else (-32768, 32767)
    x = np.concatenate([[xlo, xhi], rng.integers(xlo, xhi + 1, cin)])[:cin].reshape(cin, 1)
    span = 1 << (bias_bits - 1) if bias_bits else 0
    bias = rng.integers(-span, span, cout) if span else np.zeros(cout, np.int64)
    pairs = [quantize_multiplier(m) for m in rng.uniform(1e-6, 0.9, 1 if shared else cout)] * (cout if shared else 1)
    q = ConvQ(w, bias, np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]),
              zp_in=0, zp_out=zp_out, w_bits=wbits)
    return q, x


def _rq(ffi, q: ConvQ, acc_bits: int):
    """The wn_rq of q as the code generator stores it (narrow biases, shared multipliers), and
    the arrays it points into (kept alive by the caller)."""
    bias = narrow_bias(q.bias, acc_bits)
    mult, shift = shared_requant(q.mult, q.shift)
    keep = [bias, mult, shift]
    rq = ffi.new("wn_rq *", [ffi.from_buffer(bias) if bias.size else ffi.NULL, _buf(ffi, mult),
                             _buf(ffi, shift), q.zp_out, bias.itemsize if bias.size else 0,
                             int(mult.size > 1)])
    return rq, keep


@pytest.mark.parametrize("variant", ["s8", "s4", "s16", "s8s16"])
def test_pointwise_conv_random_shapes(lib, variant):
    ffi, c, rounding = lib
    rng = np.random.default_rng(zlib.crc32(variant.encode()) % 1000)  # fixed across runs
    wbits, act = {"s8": (8, "i8"), "s4": (4, "i8"), "s16": (16, "i16"), "s8s16": (8, "i16")}[variant]
    acc_bits = 32 if act == "i8" else 64
    # stored bias widths: none (all zero), 8, 16, 32 (21 and 32 bits of values) and, for the int64
    # accumulator, 64 (40 and 48 bits of values: far from overflowing the sum)
    bias_bits = (0, 8, 16, 21, 32) + ((40, 48) if acc_bits == 64 else ())
    for (cin, cout), nb in zip([(1, 1), (3, 5), (17, 9), (64, 33), (8, 4), (5, 3), (2, 7)],
                               bias_bits):
        for zp_out in ((-128, 127, 0) if act == "i8" else (0,)):
            for shared in (False, True):
                q, x = _conv_case(rng, cin, cout, wbits, act, zp_out, nb, shared)
                want = taps_int(q, [x], act, rounding)[:, 0]
                xt = np.ascontiguousarray(x[:, 0], dtype=np.int8 if act == "i8" else np.int16)
                w = q.w[:, :, 0]
                wbuf = pack_int4(w) if wbits == 4 else np.ascontiguousarray(w, dtype=f"int{wbits}")
                rq, _keep = _rq(ffi, q, acc_bits)
                y = np.empty(cout, xt.dtype)
                getattr(c, f"wn_conv_{variant}")(_buf(ffi, y), _buf(ffi, xt), _buf(ffi, wbuf),
                                                  rq, cin, cout)
                np.testing.assert_array_equal(y, want, err_msg=f"{cin}x{cout} bias {nb} bits")


def test_int4_ring_conv_odd_lengths(lib):
    """Odd Cin * K rows straddle bytes of the packed weights."""
    ffi, c, rounding = lib
    rng = np.random.default_rng(7)
    cin, cout, k, d = 5, 3, 3, 2
    w = rng.integers(-7, 8, (cout, cin, k))
    q = ConvQ(w, rng.integers(-1000, 1000, cout), np.array([quantize_multiplier(0.01)[0]] * cout),
              np.array([quantize_multiplier(0.01)[1]] * cout), zp_in=0, zp_out=-3, w_bits=4)
    x = rng.integers(-128, 128, (cin, 30))
    zp_in = 5
    pad = (k - 1) * d
    xp = np.concatenate([np.full((cin, pad), zp_in), x], axis=1)
    want = taps_int(q, [xp[:, j * d: j * d + 30] for j in range(k)], "i8", rounding)
    wbuf = pack_int4(np.transpose(w, (0, 2, 1)))
    ring = np.full((pad + 1) * cin, zp_in, np.int8)
    pos = ffi.new("int32_t *", 0)
    rq, _keep = _rq(ffi, q, 32)
    y = np.empty(cout, np.int8)
    for t in range(30):
        xt = np.ascontiguousarray(x[:, t], dtype=np.int8)
        c.wn_conv_ring_s4(_buf(ffi, y), _buf(ffi, ring), pos, _buf(ffi, xt),
                          _buf(ffi, wbuf), rq, cin, cout, k, d, pad + 1)
        np.testing.assert_array_equal(y, want[:, t])


def test_add_zero_points_at_both_ends(lib):
    ffi, c, rounding = lib
    from wncc.ir import Node, QuantParams
    a = np.arange(-128, 128, dtype=np.int8)
    b = a[::-1].copy()
    for zps in [(-128, 127, -128), (127, -128, 127), (0, 0, 0)]:
        q = add_params(QuantParams(0.02, zps[0]), QuantParams(0.05, zps[1]), QuantParams(0.04, zps[2]), "i8")
        node = Node("add", "add", ["a", "b"], ["y"], {"q": q})
        want = Add().golden(node, [a.astype(np.int64), b.astype(np.int64)], Eval(True, "i8", rounding))
        params = ffi.new("wn_add_q *", q.c_values().tolist())
        y = np.empty(256, np.int8)
        c.wn_add_s8(_buf(ffi, y), _buf(ffi, a), _buf(ffi, b), 256, params)
        np.testing.assert_array_equal(y, want)


def test_pack_int4_odd_length():
    v = np.array([-7, 7, -1, 3, 5])
    packed = pack_int4(v)
    assert packed.tolist() == [(9) | (7 << 4), (15) | (3 << 4), 5]


def _random_add_q(rng) -> list[int]:
    """wn_add_q fields: inputs left-shifted by 20 and scaled back by 2^-21..2^-24, output shifts
    -2..2 (the positive ones take single rounding's saturating branch), multipliers in
    [2^30, 2^31), zero points anywhere in int8: outputs spread over the int8 range."""
    mults = rng.integers(1 << 30, (1 << 31) - 1, 3)
    zps = rng.integers(-128, 128, 3)
    return [20, mults[0], int(rng.integers(-23, -19)), mults[1], int(rng.integers(-23, -19)),
            mults[2], int(rng.integers(-2, 3)), zps[0], zps[1], zps[2]]


def test_add_isa_equals_portable(isa_pair):
    ffi, ref, vnni = isa_pair
    rng = np.random.default_rng(3)
    varied = 0
    for n in [*range(0, 70), 128, 255, 1000]:
        q = ffi.new("wn_add_q *", [int(v) for v in _random_add_q(rng)])
        a = rng.integers(-128, 128, n).astype(np.int8)
        b = rng.integers(-128, 128, n).astype(np.int8)
        want, got = np.zeros(n, np.int8), np.zeros(n, np.int8)
        ref.wn_add_s8(_buf(ffi, want), _buf(ffi, a), _buf(ffi, b), n, q)
        vnni.wn_add_s8(_buf(ffi, got), _buf(ffi, a), _buf(ffi, b), n, q)
        np.testing.assert_array_equal(got, want, err_msg=f"n={n}")
        varied += len(np.unique(want)) > 4
    assert varied > 50  # of the 57 lengths from 16 on


def test_gate_isa_equals_portable(isa_pair):
    ffi, ref, vnni = isa_pair
    rng = np.random.default_rng(4)
    varied = 0
    for half in [*range(0, 40), 64, 100, 128]:
        first, last = sorted(rng.integers(0, 256, 2))
        tables = [rng.integers(-128, 128, last - first + 1).astype(np.int8) for _ in range(2)]
        luts = [ffi.new("wn_lut8 *", [ffi.from_buffer("int8_t[]", v), int(first), int(last)])
                for v in tables]
        q = ffi.new("wn_mul_q *", [int(rng.integers(1 << 30, (1 << 31) - 1)),
                                   int(rng.integers(-11, -5)), *map(int, rng.integers(-128, 128, 3)),
                                   0])
        a = rng.integers(-128, 128, 2 * half).astype(np.int8)
        want, got = np.zeros(half, np.int8), np.zeros(half, np.int8)
        for lib_, out in ((ref, want), (vnni, got)):
            lib_.wn_gate_s8(_buf(ffi, out), _buf(ffi, a), half, 0, half, luts[0], luts[1], q)
        np.testing.assert_array_equal(got, want, err_msg=f"half={half}")
        varied += len(np.unique(want)) > 4
    assert varied > 25  # of the 27 halves from 16 on

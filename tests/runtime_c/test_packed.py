"""The packed int8 convolutions (runtime_c/avx512_vnni/wn_conv_vnni_s8.c, dsp/wn_conv_dsp4_s8.c,
mve/wn_conv_mve4_s8.c, neon_dotprod/wn_conv_sdot_s8.c) against the reference kernels of
runtime_c/ref/wn_conv_s8.c, for equality, on the core of each layout's target (natively for
x86-vnni when this CPU has AVX-512 VNNI, under qemu for cortex-m4, cortex-m55 and cortex-a76).

Each case is one layer with its tables made the way the code generator makes them: the
reference layout ([Cout][K][Cin], int32 biases, per-channel or shared multipliers) and the packed
one by wncc.ops.layout.packed_entries. The cases are written into a C file with the layer, its
inputs and both sets of tables, built with the target's toolchain beside both kernel files (the
reference one with its portable dot products), and run: it prints PASS or the first mismatch.
Shapes cross every block, group and pass boundary (cin 1..200, cout 1..300, 1..3 taps), values
reach the ends of int8 (-128 weights included, which symmetric quantization never makes), shifts
run from -31 to positive ones (single rounding's saturating branch), zero points from -128 to
127; ring layers step several times so that every tap meets older rows. Both rounding modes.
A corrupted packed weight must be caught (the negative control)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from wncc import emulate
from wncc.ops.layout import LAYOUTS, pack_lanes, packed_entries
from wncc.targets import Target

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("wn_packed_optimized", HERE / "test_optimized.py")
opt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(opt)  # test_optimized.py's builds and emulation (a file, not a package)

TARGETS = {"vnni": "x86-vnni", "dsp4": "cortex-m4", "mve4": "cortex-m55", "sdot": "cortex-a76"}
SHAPES = [(1, 1, 1), (3, 5, 1), (4, 4, 1), (5, 17, 1), (17, 9, 1), (31, 33, 1), (64, 20, 1),
          (70, 17, 1), (7, 6, 2), (20, 13, 3), (33, 40, 2), (16, 64, 2), (40, 200, 1),
          (65, 129, 2)]
STEPS = 5
LONG = ("dsp4", "sdot")  # their single-rounding runs too go to -m long (the default suite's time)


def _layer(rng: np.random.Generator, cin: int, cout: int, taps: int, kind: int):
    """(q, weights [cout, taps, cin], zp_out, per_channel, inputs [STEPS, cin])"""
    if kind == 1:  # the ends of int8
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
    bias = rng.integers(-(1 << typical), 1 << typical, cout).astype(np.int64)  # as the sums
    zp = int(rng.integers(-128, 128))
    if kind == 2:  # activations at the ends
        x = rng.choice(np.array([-128, 127], np.int8), (STEPS, cin))
    else:
        x = rng.integers(-128, 128, (STEPS, cin)).astype(np.int8)
    return SimpleNamespace(bias=bias, mult=mult, shift=shift.astype(np.int64)), w, zp, \
        per_channel, x


def _array(name: str, ctype: str, values: np.ndarray) -> str:
    flat = np.asarray(values).reshape(-1)
    body = ", ".join(str(int(v)) for v in flat) if flat.size else "0"
    return f"static const {ctype} {name}[] = {{{body}}};\n"


def _harness(layout: str, seed: int, corrupt: bool = False) -> tuple[str, int]:
    """The C source of the cases and how many there are."""
    rng = np.random.default_rng(seed)
    packed = f"wn_conv_{layout}_s8"
    ring = f"wn_conv_ring_{layout}_s8"
    data, calls = [], []
    cases = SHAPES * 2
    for i, (cin, cout, taps) in enumerate(cases):
        q, w, zp, per_channel, x = _layer(rng, cin, cout, taps, i % 3)
        pk = [values for _, _, values, _, _ in packed_entries(q, w, LAYOUTS[layout])]
        if corrupt and i == 3:
            pk[0] = pk[0] ^ np.int8(0x40)  # every weight of this case
        data += [_array(f"w_ref{i}", "int8_t", w), _array(f"w_pk{i}", "int8_t", pk[0]),
                 _array(f"b_ref{i}", "int32_t", q.bias), _array(f"b_pk{i}", "int32_t", pk[1]),
                 _array(f"m_ref{i}", "int32_t", q.mult), _array(f"s_ref{i}", "int8_t", q.shift),
                 _array(f"m_pk{i}", "int32_t", pk[2]), _array(f"s_pk{i}", "int8_t", pk[3]),
                 _array(f"x{i}", "int8_t", x)]
        len_ = (taps - 1) * 2 + 1
        calls.append(f"""    {{
        const wn_rq rr = {{b_ref{i}, m_ref{i}, s_ref{i}, {zp}, 4, {int(per_channel)}}};
        const wn_rq rp = {{b_pk{i}, m_pk{i}, s_pk{i}, {zp}, 4, 1}};
        static int8_t ring_r[{len_ * cin}], ring_p[{len_ * cin}];
        int32_t pos_r = {len_ - 1}, pos_p = {len_ - 1}, t, r;
        for (t = 0; t < {STEPS}; ++t) {{
            const int8_t *x = x{i} + t * {cin};
            if ({taps} == 1) {{
                wn_conv_s8(yr, x, w_ref{i}, &rr, {cin}, {cout});
                {packed}(yp, x, w_pk{i}, &rp, {cin}, {cout});
            }} else {{
                wn_conv_ring_s8(yr, ring_r, &pos_r, x, w_ref{i}, &rr, {cin}, {cout}, {taps}, 2, {len_});
                {ring}(yp, ring_p, &pos_p, x, w_pk{i}, &rp, {cin}, {cout}, {taps}, 2, {len_});
            }}
            for (r = 0; r < {cout}; ++r) {{
                if (yr[r] != yp[r]) {{
                    printf("MISMATCH case={i} step=%d row=%d ref=%d packed=%d\\n", (int)t, (int)r,
                           (int)yr[r], (int)yp[r]);
                    return 1;
                }}
                varied += yr[r] != yr[0];
            }}
        }}
    }}
""")
    source = ("#include <stdio.h>\n#include \"wn_runtime.h\"\n\n" + "".join(data)
              + "\nint main(void)\n{\n    static int8_t yr[512], yp[512];\n    long varied = 0;\n"
              + "".join(calls)
              + f'    printf("PASS {len(cases)} cases %ld\\n", varied);\n    return 0;\n}}\n')
    return source, len(cases)


def _build(target: Target, layout: str, tmp: Path, single: int, corrupt: bool = False
           ) -> tuple[Path, int]:
    source, cases = _harness(layout, single, corrupt)
    (tmp / "cases.c").write_text(source)
    isa = opt.write_isa_headers(target, tmp)
    rounding = f"-DWN_SINGLE_ROUNDING={single}"
    folder = {"vnni": "avx512_vnni", "dsp4": "dsp", "mve4": "mve", "sdot": "neon_dotprod"}[layout]
    objs = [tmp / "ref.o", tmp / "packed.o", tmp / "cases.o"]
    opt._cc(target, ["-c", rounding, str(opt.RUNTIME / "ref" / "wn_conv_s8.c"), "-o", str(objs[0])])
    opt._cc(target, ["-c", rounding, f"-I{isa}", str(opt.RUNTIME / folder / f"wn_conv_{layout}_s8.c"),
                 "-o", str(objs[1])], isa_first=True)
    opt._cc(target, ["-c", rounding, str(tmp / "cases.c"), "-o", str(objs[2])])
    return opt.link(target, objs, tmp / "packed.elf"), cases


@pytest.mark.parametrize("single", [1, pytest.param(0, marks=pytest.mark.long)],
                         ids=["single", "double"])  # single rounding is the default (-m long: both)
@pytest.mark.parametrize("layout", [pytest.param(n, marks=pytest.mark.long) if n in LONG else n
                                    for n in sorted(TARGETS)])
def test_packed_equals_reference(layout, single, tmp_path):
    target = opt.core_target(TARGETS[layout], None)
    opt.skip_unless_runnable(target)
    exe, cases = _build(target, layout, tmp_path, single)
    res = emulate.run(exe, target, [], timeout=opt.TIMEOUT)
    lines = res.stdout.strip().splitlines()
    assert res.returncode == 0 and not res.timed_out, res.describe()
    m = re.fullmatch(rf"PASS {cases} cases (\d+)", lines[-1]) if lines else None
    assert m and int(m.group(1)) > 2000, res.stdout[-2000:]  # outputs vary: not all saturated


@pytest.mark.parametrize("layout", sorted(TARGETS))
def test_corrupted_packed_weight_is_caught(layout, tmp_path):
    target = opt.core_target(TARGETS[layout], None)
    opt.skip_unless_runnable(target)
    exe, _ = _build(target, layout, tmp_path, 1, corrupt=True)
    res = emulate.run(exe, target, [], timeout=opt.TIMEOUT)
    assert res.returncode == 1 and "MISMATCH case=3 " in res.stdout, res.describe()


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_pack_lanes_order(name):
    """Entry (pass, segment, group, block, row, byte) holds w[row, segment, group * g + byte]."""
    layout = LAYOUTS[name]
    rows, group, per_pass = layout.rows, layout.group, layout.pass_blocks
    rng = np.random.default_rng(0)
    cout, segments, n = 300, 2, 7
    w = rng.integers(-128, 128, (cout, segments, n)).astype(np.int8)
    packed = pack_lanes(w, layout)
    blocks, groups = -(-cout // rows), -(-n // group)
    assert packed.size == blocks * rows * segments * groups * group
    at = 0
    for first in range(0, blocks, per_pass):
        for s in range(segments):
            for j in range(groups):
                for b in range(min(per_pass, blocks - first)):
                    for lane in range(rows):
                        row = (first + b) * rows + lane
                        for byte in range(group):
                            col = group * j + byte
                            want = w[row, s, col] if row < cout and col < n else 0
                            assert packed[at] == want
                            at += 1
    assert at == packed.size


def test_packed_bias_takes_off_the_activation_offset():
    """vnni: sum (x + 128) * w + bias' == sum x * w + bias, modulo 2^32, for every row; the
    other layouts keep the biases."""
    rng = np.random.default_rng(1)
    w = rng.integers(-128, 128, (20, 1, 9)).astype(np.int8)
    q = SimpleNamespace(bias=rng.integers(-(1 << 31), 1 << 31, 20), mult=np.array([1 << 30]),
                        shift=np.array([-3]))
    bias = packed_entries(q, w, LAYOUTS["vnni"])[1][2].astype(np.int64)
    x = rng.integers(-128, 128, 9)
    lhs = (w[:, 0, :].astype(np.int64) @ (x + 128)) + bias[:20]
    rhs = w[:, 0, :].astype(np.int64) @ x + q.bias
    assert np.all((lhs - rhs) % (1 << 32) == 0)
    assert np.all(bias[20:] == 0)
    kept = packed_entries(q, w, LAYOUTS["dsp4"])[1][2]
    assert np.array_equal(kept[:20], q.bias.astype(np.int32)) and np.all(kept[20:] == 0)

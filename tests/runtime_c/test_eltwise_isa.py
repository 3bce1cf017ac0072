"""The int8 add and gate with an ISA's bulk hooks (x86-vnni: 16 elements in AVX-512 lanes;
cortex-m55: 4 in Helium lanes; NEON, armv7 on cortex-a7 and AArch64 on cortex-a76: 8 in two
vectors) against the same kernel file built portably, for equality, on
the target's core (tests/runtime_c/eltwise_harness.c: every short length, long ones, in place
and apart, the parameter ranges the compiler makes, both roundings). A planted bug (an output
zero point one off in the ISA build) must be caught."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from wncc import emulate
from wncc.codegen.project import isa_dot_headers

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("wn_eltwise_optimized", HERE / "test_optimized.py")
opt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(opt)  # test_optimized.py's builds and emulation (a file, not a package)

TARGETS = ["x86-vnni", "cortex-m55", "cortex-a7", "cortex-a76"]  # ISA headers with bulk hooks
KERNELS = opt.RUNTIME / "ref" / "wn_eltwise_s8.c"
LONG = ("cortex-a7", "cortex-a76")  # NEON's runs go to -m long (the default suite's time)


def _renames() -> list[str]:
    """-D renames of every function wn_eltwise_s8.c defines (the portable copy links beside)."""
    names = re.findall(r"^\w[\w ]*\b(wn_\w+)\(", KERNELS.read_text(), re.M)
    return [f"-D{n}=ref_{n}" for n in sorted(set(names)) if not n.startswith("wn_add_one")]


def _build(target, tmp: Path, single: int, defines: tuple[str, ...] = ()) -> Path:
    isa = opt.write_isa_headers(target, tmp)
    rounding = f"-DWN_SINGLE_ROUNDING={single}"
    objs = [tmp / "ref.o", tmp / "isa.o", tmp / "main.o", tmp / "sample.o"]
    opt._cc(target, ["-c", rounding, *_renames(), str(KERNELS), "-o", str(objs[0])])
    opt._cc(target, ["-c", rounding, f"-I{isa}", str(KERNELS), "-o", str(objs[1])],
            isa_first=True)
    opt._cc(target, ["-c", rounding, *defines, str(HERE / "eltwise_harness.c"), "-o",
                     str(objs[2])])
    opt._cc(target, ["-c", str(opt.RUNTIME / "ref" / "wn_sample.c"), "-o", str(objs[3])])
    return opt.link(target, objs, tmp / "eltwise.elf")


@pytest.mark.parametrize("single", [1, pytest.param(0, marks=pytest.mark.long)],
                         ids=["single", "double"])  # single rounding is the default (-m long: both)
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.long) if n in LONG else n
                                  for n in TARGETS])
def test_bulk_equals_portable(name, single, tmp_path):
    target = opt.core_target(name, None)
    opt.skip_unless_runnable(target)
    assert "#define WN_HAVE_ELTWISE_S8\n" in "".join(isa_dot_headers(target).values())
    res = emulate.run(_build(target, tmp_path, single), target, [], timeout=opt.TIMEOUT)
    lines = res.stdout.strip().splitlines()
    assert res.returncode == 0 and not res.timed_out, res.describe()
    m = re.fullmatch(r"PASS (\d+)", lines[-1]) if lines else None
    assert m and int(m.group(1)) > 50000, res.stdout[-2000:]  # outputs vary


@pytest.mark.parametrize("name", TARGETS)
def test_planted_bug_is_caught(name, tmp_path):
    target = opt.core_target(name, None)
    opt.skip_unless_runnable(target)
    res = emulate.run(_build(target, tmp_path, 1, ("-DBREAK=1",)), target, [],
                      timeout=opt.TIMEOUT)
    assert res.returncode == 1 and "MISMATCH add case=" in res.stdout, res.describe()

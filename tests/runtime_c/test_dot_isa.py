"""The optimized dot products of each ISA folder (runtime_c/<isa>/wn_dot_<isa>.h, through the
wn_dot_isa.h the code generator writes for a target) against the portable loops of
runtime_c/ref/wn_dot.h, for equality, on the emulated core of each target.

tests/runtime_c/dot_harness.c is compiled three times with the target's toolchain and flags:
wrappers of the portable loops (ref_dot_*), wrappers of the target's (opt_dot_*), and the driver,
which runs every family (s8, s4, s16, s8s16) on every short length, long and overflow-prone
lengths with extreme values, and random cases, and prints PASS or the first mismatch. The cores,
the builds and the emulation are test_optimized.py's (imported from it).

Negative controls (host only): opt builds with a planted bug (-DWN_DOT_BREAK) must mismatch, each
on the family and the cases it targets, so a PASS above means something."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from wncc import emulate
from wncc.codegen.project import isa_dot_headers
from wncc.targets import Target

HERE = Path(__file__).resolve().parent
HARNESS = HERE / "dot_harness.c"


def _load_sibling(name: str):
    """test_optimized.py's helpers (a test file, not a package: loaded by path)."""
    spec = importlib.util.spec_from_file_location(f"wn_dot_isa_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


opt = _load_sibling("test_optimized")
CORES, RUNTIME, TIMEOUT = opt.CORES, opt.RUNTIME, opt.TIMEOUT
FAMILIES = ("s8", "s4", "s16", "s8s16")
CASES_FAST, CASES_BOARD = 20000, 5000  # random cases after the fixed sweep; boards are slow

# what each ISA folder must replace (a deleted function would silently fall back to the portable
# loop and still pass)
EXPECTED = {"dsp": FAMILIES, "mve": FAMILIES, "neon": FAMILIES, "neon_dotprod": ("s8", "s4"),
            "avx2": FAMILIES, "avx512_vnni": ("s8", "s4")}


def target_families(target: Target) -> list[str]:
    """The families the target's wn_dot_isa.h replaces, in the harness's order."""
    text = "".join(isa_dot_headers(target).values())
    return [f for f in FAMILIES if f"#define WN_HAVE_DOT_{f.upper()}\n" in text]


def build(target: Target, out: Path, cases: int, opt_defines: tuple[str, ...] = ()) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    isa = opt.write_isa_headers(target, out)
    ref_o, opt_o, main_o = out / "ref_dot.o", out / "opt_dot.o", out / "dot_harness.o"
    opt._cc(target, ["-c", "-DWN_DOT_WRAP=ref", str(HARNESS), "-o", str(ref_o)])
    opt._cc(target, ["-c", "-DWN_DOT_WRAP=opt", *opt_defines, f"-I{isa}", str(HARNESS), "-o",
                     str(opt_o)], isa_first=True)
    opt._cc(target, ["-c", f"-DCASES={cases}", str(HARNESS), "-o", str(main_o)])
    return opt.link(target, [main_o, ref_o, opt_o], out / "dot_harness.elf")


@pytest.mark.parametrize("core,target_name,cpu", CORES, ids=[c[0] for c in CORES])
def test_dot_products_equal_portable(core, target_name, cpu, tmp_path):
    target = opt.core_target(target_name, cpu)
    opt.skip_unless_runnable(target)
    families = target_families(target)
    if not families:
        pytest.skip(f"no optimized dot products in {', '.join(target.kernels)}")
    cases = CASES_BOARD if target.bare_metal else CASES_FAST
    exe = build(target, tmp_path, cases)
    res = emulate.run(exe, target, [], timeout=TIMEOUT)
    assert res.returncode == 0 and not res.timed_out, res.describe()
    last = res.stdout.strip().splitlines()[-1:]
    m = re.fullmatch(r"PASS (\d+) dots; optimized:(.*)", last[0]) if last else None
    assert m, res.stdout[-2000:]
    assert m.group(2).split() == families  # the opt build did use the target's headers


def test_every_isa_folder_has_its_dot_products():
    missing = [f"{d}: {fam}" for d, fams in EXPECTED.items() for fam in fams
               if f"#define WN_HAVE_DOT_{fam.upper()}\n"
               not in (RUNTIME / d / f"wn_dot_{d}.h").read_text()]
    assert not missing
    assert all("#define WN_HAVE_DOT2_S8\n" in (RUNTIME / d / f"wn_dot_{d}.h").read_text()
               for d in ("dsp", "mve"))


# planted bug -> (family, what the first mismatch's case must show: the cases that reveal it)
BREAKS = {
    1: ("s8", lambda c: True),
    2: ("s4", lambda c: True),
    3: ("s16", lambda c: True),
    4: ("s8s16", lambda c: True),
    5: ("s16", lambda c: c["w"] == c["x"] == "min"),  # int32 pair sums: all four -32768
    6: ("s16", lambda c: True),                         # int32 accumulator
    7: ("s8s16", lambda c: int(c["n"]) >= 512),         # int32 accumulator: 512 * 128 * 32768
    8: ("s4", lambda c: int(c["first"]) % 2 == 1),      # odd first taken as even
    9: ("s4", lambda c: c["n"] == "131081"),            # DSP 16*w*x sum without its flush
    10: ("s8", lambda c: True),                         # two rows of wn_dot4_s8 swapped
}


@pytest.fixture(scope="module")
def host_target(tmp_path_factory) -> Target:
    """x86 (AVX2) when this CPU has it, else the portable host build (the bugs are in wrappers)."""
    target = opt.core_target("x86", None)
    flags = emulate.host_cpu_flags()
    if any(f not in flags for f in target.cpu_flags):
        target = opt.core_target("host", None)
    return target


@pytest.mark.parametrize("bug", sorted(BREAKS))
def test_planted_bug_is_caught(bug, host_target, tmp_path):
    family, reveals = BREAKS[bug]
    exe = build(host_target, tmp_path, 200, (f"-DWN_DOT_BREAK={bug}",))
    res = emulate.run(exe, host_target, [], timeout=TIMEOUT)
    lines = res.stdout.strip().splitlines()
    assert res.returncode == 1 and lines and lines[-1].startswith(f"MISMATCH {family} "), \
        res.describe()
    assert reveals(dict(re.findall(r"(\w+)=(\S+)", lines[-1]))), lines[-1]

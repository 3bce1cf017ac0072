"""Optimized integer convolutions (runtime_c/dsp, mve, neon, neon_dotprod, avx2, avx512_vnni)
against the reference kernels (runtime_c/ref), for equality, on the emulated core of each target.

For every core the reference kernel files are compiled twice: once as they are (portable dot
products) with their functions renamed (ref_wn_conv_s8, ...), and once with the target's
optimized dot products (the wn_dot_isa.h the code generator writes for the target, which
includes runtime_c/<isa>/wn_dot_<isa>.h for each of its `[isa] kernels` folders).
tests/runtime_c/opt_harness.c generates the cases (odd and large shapes, range-end weights and
activations, zero points at both ends, exact negative ties in requantization), runs both and
prints PASS or the first mismatch. Built with the target's own toolchain and flags, run under its
emulator (qemu-user, qemu-system-arm with the board support of runtime_c/boards, or natively).
Both rounding modes (WN_SINGLE_ROUNDING 0/1).

Negative tests: the sdot build dies with SIGILL on a Cortex-A53 (no dot product), the DSP build
faults on a Cortex-M3 (no DSP extension): the emulators check the ISA, so a pass above means the
instructions ran on a core that has them."""

from __future__ import annotations

import dataclasses
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from wncc import emulate
from wncc.codegen.project import isa_dot_headers
from wncc.targets import Target, load

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "runtime_c"
HARNESS = Path(__file__).resolve().parent / "opt_harness.c"

# kernel file -> the harness's family switch
FAMILIES = {"wn_conv_s8.c": "S8", "wn_conv_s8s16.c": "S8S16", "wn_conv_s16.c": "S16",
            "wn_conv_s4.c": "S4"}
CASES = 300  # per family and rounding mode; each case runs pointwise, ring (several steps), transposed
TIMEOUT = 600.0

# (test id, target file, qemu-user CPU override): the cores the brief names
CORES = [
    ("x86-avx2", "x86", None),
    ("x86-vnni", "x86-vnni", None),  # skipped unless this CPU has AVX-512 VNNI
    ("cortex-a53", "cortex-a53", None),
    ("cortex-a76", "cortex-a76", None),
    ("cortex-a7", "cortex-a7", None),
    ("cortex-a15", "cortex-a7", "cortex-a15"),  # the armv7 NEON build on a second core
    ("cortex-m4", "cortex-m4", None),
    ("cortex-m7", "cortex-m7", None),
    ("cortex-m33", "cortex-m33", None),
    ("cortex-m55", "cortex-m55", None),
]


def optimized_sources(target: Target) -> dict[str, Path]:
    """kernel file -> the folder holding the target's wn_dot_isa.h and ISA headers, for the
    families whose dot product the target optimizes (the others would compare ref with ref)."""
    headers = isa_dot_headers(target)
    text = "".join(headers.values())
    return {name: Path() for name, fam in FAMILIES.items() if f"WN_HAVE_DOT_{fam}\n" in text}


def write_isa_headers(target: Target, out: Path) -> Path:
    """The target's wn_dot_isa.h and ISA headers, as a generated project has them."""
    folder = out / "isa"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in isa_dot_headers(target).items():
        (folder / name).write_text(text)
    return folder


def core_target(target_name: str, cpu: str | None) -> Target:
    if not (ROOT / "targets" / f"{target_name}.toml").exists():
        pytest.skip(f"targets/{target_name}.toml does not exist")
    target = load(target_name)
    if cpu is not None:
        target = dataclasses.replace(target, emulator_cpu=cpu)
    return target


def skip_unless_runnable(target: Target) -> None:
    tools = [target.cc] + ([target.emulator_binary or "qemu-system-arm"]
                           if target.emulator != "native" else [])
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")
    if target.emulator == "native":
        flags = emulate.host_cpu_flags()
        lacking = [f for f in target.cpu_flags if f not in flags]
        if lacking:
            pytest.skip(f"this CPU lacks {', '.join(lacking)} (/proc/cpuinfo)")
    if target.bare_metal:
        board_files = [*target.startup, target.linker_script, *target.linker_includes]
        absent = [f for f in board_files if not (RUNTIME / "boards" / f).exists()]
        if absent:
            pytest.skip(f"board support missing: runtime_c/boards/{', '.join(absent)}")


def _cc(target: Target, args: list[str], cflags: tuple[str, ...] | None = None,
        isa_first: bool = False) -> None:
    """Compile; with isa_first the -I of the target's headers (in args) comes before ref's."""
    includes = [f"-I{RUNTIME / 'include'}", f"-I{RUNTIME / 'ref'}"]
    if isa_first:
        first = [a for a in args if a.startswith("-I")]
        args = [a for a in args if not a.startswith("-I")]
        includes = first + includes
    cmd = [target.cc, "-std=c99", *(target.cflags if cflags is None else cflags), "-Wall",
           "-Wextra", *includes, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"
    assert "warning" not in proc.stderr, proc.stderr


def renames(name: str) -> list[str]:
    sfx = name[len("wn_conv_"):-2]
    return [f"-D{fn}_{sfx}=ref_{fn}_{sfx}" for fn in ("wn_conv", "wn_conv_ring", "wn_convt")]


def build_harness(target: Target, sources: dict[str, Path], out: Path, single: int,
                  cases: int = CASES, opt_cflags: tuple[str, ...] | None = None) -> Path:
    """The harness executable: optimized sources as they are, reference sources renamed.
    opt_cflags compiles the optimized objects with other flags (the negative tests)."""
    out.mkdir(parents=True, exist_ok=True)
    rounding = f"-DWN_SINGLE_ROUNDING={single}"
    isa = write_isa_headers(target, out)
    objs = []
    for name in sources:
        ref_obj, opt_obj = out / f"ref_{name}.o", out / f"opt_{name}.o"
        _cc(target, ["-c", rounding, *renames(name), str(RUNTIME / "ref" / name), "-o", str(ref_obj)])
        _cc(target, ["-c", rounding, f"-I{isa}", str(RUNTIME / "ref" / name), "-o", str(opt_obj)],
            opt_cflags, isa_first=True)
        objs += [ref_obj, opt_obj]
    harness_obj = out / "opt_harness.o"
    _cc(target, ["-c", rounding, f"-DCASES={cases}",
                 *(f"-DWN_TEST_{FAMILIES[n]}" for n in sources), str(HARNESS), "-o", str(harness_obj)])
    return link(target, [harness_obj, *objs], out / "opt_harness.elf")


def link(target: Target, objs: list[Path], exe: Path) -> Path:
    """Link objects into an executable for the target (with its board support when bare metal)."""
    cmd = [target.cc, *target.cflags, *map(str, objs)]
    if target.bare_metal:
        cmd += [str(RUNTIME / "boards" / s) for s in target.startup]
        cmd += [f"-L{RUNTIME / 'boards'}", "-T", target.linker_script]
    cmd += [*target.ldflags, "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"
    return exe


@pytest.mark.parametrize("single", [pytest.param(0, marks=pytest.mark.long), 1],
                         ids=["double", "single"])  # single rounding is the default (-m long: both)
@pytest.mark.parametrize("core,target_name,cpu", CORES, ids=[c[0] for c in CORES])
def test_optimized_equals_reference(core, target_name, cpu, single, tmp_path):
    target = core_target(target_name, cpu)
    skip_unless_runnable(target)
    sources = optimized_sources(target)
    if not sources:
        pytest.skip(f"no optimized integer convolutions in {', '.join(target.kernels)}")
    exe = build_harness(target, sources, tmp_path, single)
    res = emulate.run(exe, target, [], timeout=TIMEOUT)
    lines = res.stdout.strip().splitlines()
    assert res.returncode == 0 and not res.timed_out, res.describe()
    want = " ".join(n[len("wn_conv_"):-2] for n in sources)
    assert lines and lines[-1] == f"PASS {CASES} cases: {want}", res.stdout[-2000:]


def test_every_isa_folder_has_its_kernels():
    """The optimized files this suite expects exist (a deleted file would silently fall back to
    ref and the suite above would still pass)."""
    expected = {"dsp": ["S8", "S8S16", "S16", "S4"], "mve": ["S8", "S8S16", "S16", "S4"],
                "neon": ["S8", "S8S16", "S16", "S4"], "neon_dotprod": ["S8", "S4"],
                "avx2": ["S8", "S8S16", "S16", "S4"], "avx512_vnni": ["S8", "S4"]}
    missing = [f"{d}: {fam}" for d, fams in expected.items() for fam in fams
               if f"#define WN_HAVE_DOT_{fam}\n" not in (RUNTIME / d / f"wn_dot_{d}.h").read_text()]
    assert not missing


def test_sdot_build_dies_on_cortex_a53(tmp_path):
    """qemu-aarch64 -cpu cortex-a53 has no dot product: the neon_dotprod build must raise SIGILL."""
    a76 = core_target("cortex-a76", None)
    skip_unless_runnable(a76)
    exe = build_harness(a76, {"wn_conv_s8.c": Path()}, tmp_path, 0, cases=40)
    a53 = dataclasses.replace(a76, emulator_cpu="cortex-a53")
    res = emulate.run(exe, a53, [], timeout=TIMEOUT)
    assert res.returncode == -signal.SIGILL, res.describe()
    assert "PASS" not in res.stdout
    # and the same binary passes where SDOT exists
    ok = emulate.run(exe, a76, [], timeout=TIMEOUT)
    assert ok.returncode == 0 and ok.stdout.strip().endswith("PASS 40 cases: s8"), ok.describe()


def test_dsp_build_faults_on_cortex_m3(tmp_path):
    """The Cortex-M3 (mps2-an385) has no DSP extension: the dsp kernel, compiled for the M4 and
    linked into an M3 program, must fault (the board's fault handler exits with status 70)."""
    m3 = core_target("cortex-m3", None)
    skip_unless_runnable(m3)
    m4_flags = tuple("-mcpu=cortex-m4" if f == "-mcpu=cortex-m3" else f for f in m3.cflags)
    assert "-mcpu=cortex-m4" in m4_flags
    m3_with_dsp = dataclasses.replace(m3, kernels=("dsp", "ref"))
    exe = build_harness(m3_with_dsp, {"wn_conv_s8.c": Path()}, tmp_path, 0, cases=40,
                        opt_cflags=m4_flags)
    res = emulate.run(exe, m3, [], timeout=TIMEOUT)
    assert res.returncode == 70, res.describe()
    assert "PASS" not in res.stdout

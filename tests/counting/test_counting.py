"""Instruction counting (wncc.counting): the qemu plugin on aarch64, armv7 (Thumb and ARM) and a
bare-metal Cortex-M board, and callgrind and ptrace single-stepping (equal to callgrind) on the
host. A small program brackets a loop of N iterations with wn_bench_begin()/wn_bench_end(); counts
must be exact (the same every run and in both plugin modes), grow linearly with N, and be 0 when
the markers are never reached."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from wncc import counting
from wncc.counting import Counts, count_callgrind, count_qemu, parse_callgrind, plugin_path
from wncc.errors import WnccError

ROOT = Path(__file__).resolve().parents[2]
BOARDS = ROOT / "runtime_c" / "boards"

# argv: N (loop iterations), REPS (begin..end regions), MARKERS (0: loop without the markers)
PROGRAM = r"""
#include <stdlib.h>

volatile unsigned wn_bench_marks;
volatile unsigned wn_bench_sink;

__attribute__((noinline)) void wn_bench_begin(void) { wn_bench_marks += 1u; }
__attribute__((noinline)) void wn_bench_end(void) { wn_bench_marks += 2u; }

#ifdef WN_FALLTHROUGH /* aarch64 only */
__asm__(".text\n.global wn_bench_pre\n.type wn_bench_pre, %function\nwn_bench_pre:\n"
        "  nop\n  nop\n.global wn_bench_mid\n.type wn_bench_mid, %function\n"
        "wn_bench_mid:\n  ret\n");
void wn_bench_pre(void);
#define WN_BEGIN() wn_bench_pre()
#else
#define WN_BEGIN() wn_bench_begin()
#endif

__attribute__((noinline)) unsigned wn_bench_loop(unsigned n)
{
    unsigned acc = 7u;
    for (unsigned i = 0; i < n; i++) {
        acc = acc * 31u + (i ^ (acc >> 3));
    }
    return acc;
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], 0, 10) : 100u;
    unsigned reps = argc > 2 ? (unsigned)strtoul(argv[2], 0, 10) : 1u;
    int markers = argc > 3 ? atoi(argv[3]) : 1;
    for (unsigned r = 0; r < reps; r++) {
        if (markers) {
            WN_BEGIN();
        }
        wn_bench_sink = wn_bench_loop(n);
        if (markers) {
            wn_bench_end();
        }
    }
    return 0;
}
"""

N = 1000
ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}  # a fixed guest environment: totals comparable

# name: (compiler, flags, how to run)
QEMU_TARGETS = {
    "aarch64": ("aarch64-linux-gnu-gcc", ["-static"], "qemu-aarch64"),
    "armv7-thumb": ("arm-linux-gnueabihf-gcc", ["-static", "-march=armv7-a+fp", "-mthumb"], "qemu-arm"),
    "armv7-arm": ("arm-linux-gnueabihf-gcc", ["-static", "-march=armv7-a+fp", "-marm"], "qemu-arm"),
    "cortex-m3": ("arm-none-eabi-gcc",
                  ["-mcpu=cortex-m3", "-mthumb", "-nostartfiles", "--specs=rdimon.specs",
                   f"-T{BOARDS / 'mps2-an385.ld'}", f"-L{BOARDS}"],
                  "qemu-system-arm"),
}
SYSTEM_MACHINE = {"cortex-m3": "mps2-an385"}


@pytest.fixture(scope="module")
def plugin() -> Path:
    try:
        return plugin_path()
    except WnccError as e:
        pytest.skip(f"qemu counting plugin unavailable: {e}")


def _build(tmp: Path, target: str, extra: list[str] = ()) -> Path:
    cc, flags, runner = QEMU_TARGETS[target]
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} not installed")
    if shutil.which(runner) is None:
        pytest.skip(f"{runner} not installed")
    sources = [tmp / "prog.c"]
    if target in SYSTEM_MACHINE:
        startup = BOARDS / "wn_startup_cm.c"
        if not startup.is_file():
            pytest.skip("runtime_c/boards (Cortex-M startup and linker scripts) not present")
        sources.append(startup)
    (tmp / "prog.c").write_text(PROGRAM)
    elf = tmp / f"prog-{target}{''.join(extra)}.elf"
    proc = subprocess.run([cc, "-O1", *flags, *extra, *map(str, sources), "-o", str(elf)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"building the {target} test program failed:\n{proc.stderr}")
    return elf


def _command(target: str, elf: Path, *args: int) -> list[str]:
    runner = QEMU_TARGETS[target][2]
    if target in SYSTEM_MACHINE:
        semi = ",".join(["enable=on", "target=native", "arg=prog", *(f"arg={a}" for a in args)])
        return [runner, "-M", SYSTEM_MACHINE[target], "-nographic", "-monitor", "none",
                "-serial", "none", "-semihosting-config", semi, "-kernel", str(elf)]
    return [runner, str(elf), *map(str, args)]


@pytest.fixture(scope="module", params=list(QEMU_TARGETS))
def qemu_prog(request, plugin, tmp_path_factory):
    target = request.param
    elf = _build(tmp_path_factory.mktemp(target), target)

    def run(n: int, reps: int = 1, markers: int = 1, mode: str = "tb") -> Counts:
        return count_qemu(_command(target, elf, n, reps, markers), elf, "wn_bench_begin",
                          "wn_bench_end", mode=mode, timeout=120, env=ENV)

    run.target = target
    return run


def test_qemu_exact_and_repeatable(qemu_prog):
    a, b = qemu_prog(N), qemu_prog(N)
    assert a == b
    assert a.regions == 1 and a.region_insns > N  # at least one instruction per iteration
    assert not a.open_region and a.stray_begin == 0 and a.stray_end == 0
    assert a.total_insns >= a.region_insns
    # one inline add per instruction counts exactly what one add per translated block counts
    assert qemu_prog(N, mode="insn") == a


def test_qemu_linear_in_n(qemu_prog):
    c1, c2, c3 = (qemu_prog(k * N).region_insns for k in (1, 2, 3))
    per_n = c2 - c1
    assert per_n > 0 and per_n % N == 0
    assert c3 - c2 == per_n
    fixed = c1 - per_n  # the markers' own instructions and the call into the loop
    assert 0 < fixed < 100
    # totals move by exactly the same amount: nothing outside the region depends on N
    t1, t2 = qemu_prog(N).total_insns, qemu_prog(2 * N).total_insns
    assert t2 - t1 == per_n


def test_qemu_regions_accumulate(qemu_prog):
    one = qemu_prog(N)
    three = qemu_prog(N, reps=3)
    assert three.regions == 3
    assert three.region_insns == 3 * one.region_insns


def test_qemu_markers_never_hit(qemu_prog):
    c = qemu_prog(N, markers=0)
    assert c.regions == 0 and c.region_insns == 0
    assert c.total_insns > N
    none = qemu_prog(N, reps=0)
    assert none.regions == 0 and none.region_insns == 0


def test_qemu_marker_inside_a_block(plugin, tmp_path):
    """WN_FALLTHROUGH: wn_bench_pre falls through two nops into wn_bench_mid, so one translated
    block holds all three and the marker is its third instruction."""
    elf = _build(tmp_path, "aarch64", ["-DWN_FALLTHROUGH"])
    cmd = _command("aarch64", elf, N, 2, 1)
    for mode in ("tb", "insn"):
        inner = count_qemu(cmd, elf, "wn_bench_mid", "wn_bench_end", mode=mode, env=ENV)
        outer = count_qemu(cmd, elf, "wn_bench_pre", "wn_bench_end", mode=mode, env=ENV)
        assert inner.regions == outer.regions == 2
        assert outer.region_insns - inner.region_insns == 2 * 2  # two nops per region
        assert inner.total_insns == outer.total_insns


@pytest.mark.parametrize("target", ["aarch64", "cortex-m3"])
def test_qemu_profile_by_function(plugin, tmp_path, target):
    """profile=True: every executed block lands in a function, the functions add up to the
    whole run, and the loop's share grows with its iterations as the region count does."""
    elf = _build(tmp_path, target)
    runs = [count_qemu(_command(target, elf, n, 1, 1), elf, "wn_bench_begin", "wn_bench_end",
                       env=ENV, profile=True, timeout=120) for n in (N, 2 * N)]
    for c in runs:
        assert sum(c.profile.values()) == c.total_insns
        assert c.profile["wn_bench_begin"] > 0 and c.profile["main"] > 0
    grown = runs[1].profile["wn_bench_loop"] - runs[0].profile["wn_bench_loop"]
    assert grown == runs[1].region_insns - runs[0].region_insns > 0


def test_qemu_total_only(plugin, tmp_path):
    elf = _build(tmp_path, "aarch64")
    c = count_qemu(_command("aarch64", elf, N, 1, 1), elf, None, None, env=ENV)
    with_markers = count_qemu(_command("aarch64", elf, N, 1, 1), elf, "wn_bench_begin",
                              "wn_bench_end", env=ENV)
    assert c.regions == 0 and c.region_insns == 0
    assert c.total_insns == with_markers.total_insns


def test_qemu_errors(plugin, tmp_path):
    elf = _build(tmp_path, "aarch64")
    with pytest.raises(WnccError, match="no symbol 'wn_missing'"):
        count_qemu(_command("aarch64", elf, N), elf, "wn_missing", "wn_bench_end")
    with pytest.raises(WnccError, match="go together"):
        count_qemu(_command("aarch64", elf, N), elf, "wn_bench_begin", None)
    with pytest.raises(WnccError, match="static qemu"):
        count_qemu(["qemu-aarch64-static", str(elf)], elf, None, None)
    # a guest that fails is an error, not a count
    with pytest.raises(WnccError, match="exited with status"):
        count_qemu(["qemu-aarch64", str(tmp_path / "no-such-program")], elf, None, None)


def test_plugin_path_error_is_one_line(monkeypatch):
    counting._plugin_path_cached.cache_clear()
    monkeypatch.setenv("WNCC_QEMU_PLUGIN", "/nonexistent/libwn_insn_count.so")
    try:
        with pytest.raises(WnccError) as e:
            plugin_path()
        assert "\n" not in str(e.value)
    finally:
        counting._plugin_path_cached.cache_clear()


# --- host: callgrind ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def host_exe(tmp_path_factory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no host C compiler")
    tmp = tmp_path_factory.mktemp("host")
    (tmp / "prog.c").write_text(PROGRAM)
    exe = tmp / "prog"
    subprocess.run([cc, "-O1", str(tmp / "prog.c"), "-o", str(exe)], check=True)
    return exe


@pytest.fixture(scope="module")
def host_prog(host_exe):
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind not installed")
    exe, tmp = host_exe, host_exe.parent

    def run(n: int, reps: int = 1, markers: int = 1, toggle: str | None = "wn_bench_loop",
            total: bool = False) -> Counts:
        return count_callgrind([str(exe), str(n), str(reps), str(markers)], cwd=tmp,
                               toggle=toggle, total=total, timeout=120, env=ENV)

    return run


def test_callgrind_exact_and_linear(host_prog):
    c1 = host_prog(N, total=True)
    again = host_prog(N)
    assert (again.region_insns, again.regions) == (c1.region_insns, c1.regions)
    assert c1.regions == 1 and c1.region_insns > N
    assert c1.total_insns >= c1.region_insns
    c2, c3 = host_prog(2 * N), host_prog(3 * N)
    per_n = c2.region_insns - c1.region_insns
    assert per_n > 0 and per_n % N == 0
    assert c3.region_insns - c2.region_insns == per_n
    assert c3.total_insns is None  # only measured with total=True


def test_callgrind_regions_and_never_hit(host_prog):
    one, three = host_prog(N), host_prog(N, reps=3)
    assert three.regions == 3 and three.region_insns == 3 * one.region_insns
    never = host_prog(N, reps=0)
    assert never.regions == 0 and never.region_insns == 0
    # toggling on a marker the program never calls
    unmarked = host_prog(N, markers=0, toggle="wn_bench_begin")
    assert unmarked.regions == 0 and unmarked.region_insns == 0
    everything = host_prog(N, toggle=None)
    assert everything.total_insns > one.region_insns and everything.regions == 0


def test_parse_callgrind_compressed_names():
    text = """# callgrind format
version: 1
events: Ir Dr
summary: 999 1

fl=(1) a.c
fn=(1) main
3 10 0
cfl=(1)
cfn=(2) work
calls=4 0
3 400 0
fn=(2)
5 400 0
cfn=(2)
calls=2 0
5 50 0
fn=(3) other
cfn=(2)
calls=1 0
7 100 0

totals: 510 1
"""
    # calls from main (4) and other (1) count; work calling itself does not
    assert parse_callgrind(text, "work") == (510, 5)
    assert parse_callgrind(text, "w*") == (510, 5)
    assert parse_callgrind(text.replace("totals: 510 1\n", ""), None) == (999, 0)


# --- host: ptrace single-stepping (what valgrind cannot run, e.g. AVX-512) ----------------------


@pytest.fixture(scope="module")
def step_prog(host_exe):
    try:
        counting.step_counter_path()
    except WnccError as e:
        pytest.skip(f"ptrace step counter unavailable: {e}")

    def run(n: int, reps: int = 1, markers: int = 1, toggle: str = "wn_bench_loop") -> Counts:
        return counting.count_ptrace([str(host_exe), str(n), str(reps), str(markers)], toggle,
                                     cwd=host_exe.parent, timeout=120, env=ENV)

    return run


def test_ptrace_equals_callgrind(step_prog, host_prog):
    for n, reps in ((N, 1), (2 * N, 3), (0, 2)):
        stepped, called = step_prog(n, reps), host_prog(n, reps)
        assert stepped.tool == "ptrace" and stepped.regions == reps
        assert (stepped.region_insns, stepped.regions) == (called.region_insns, called.regions)


def test_ptrace_regions_and_never_hit(step_prog):
    one, three = step_prog(N), step_prog(N, reps=3)
    assert one.regions == 1 and one.region_insns > N
    assert three.regions == 3 and three.region_insns == 3 * one.region_insns
    assert step_prog(2 * N).region_insns - one.region_insns == \
        step_prog(3 * N).region_insns - step_prog(2 * N).region_insns
    never = step_prog(N, reps=0)
    assert never.regions == 0 and never.region_insns == 0
    unmarked = step_prog(N, markers=0, toggle="wn_bench_begin")
    assert unmarked.regions == 0 and unmarked.region_insns == 0


def test_ptrace_unknown_symbol(step_prog, host_exe):
    with pytest.raises(WnccError, match="no symbol"):
        counting.count_ptrace([str(host_exe), "1"], "wn_missing")

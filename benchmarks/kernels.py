"""Instructions per multiply-accumulate of the optimized integer convolutions vs the reference, per core.

For each target (targets/*.toml) the optimized kernel files are the ones its projects use (the first
of its `[isa] kernels` folders holding the file); benchmarks/kernels_bench.c links them beside the
reference files (functions renamed ref_wn_conv_...) and runs each kernel REPS times between marker
functions. Counting (wncc/counting.py): ARM cores under qemu with the project's TCG plugin
(count_qemu, the instructions between the begin and end markers), x86 natively under callgrind
(count_callgrind, --toggle-collect on the kernel function), or, for AVX-512 targets, which valgrind
cannot run, by single-stepping the kernel function under ptrace (count_ptrace: the same count,
slower). Retired instructions, exact and repeatable; QEMU models no cycles or caches, so these are
not cycle counts.

    python benchmarks/kernels.py                          # every target with optimized kernels
    python benchmarks/kernels.py --targets cortex-m4 cortex-a76 --reps 20
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from wncc import counting, emulate  # noqa: E402
from wncc.codegen.project import isa_dot_headers  # noqa: E402
from wncc.targets import Target, load  # noqa: E402

RUNTIME = REPO / "runtime_c"
DRIVER = REPO / "benchmarks" / "kernels_bench.c"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "kernels.json"
FAMILIES = {"s8": "wn_conv_s8.c", "s8s16": "wn_conv_s8s16.c", "s16": "wn_conv_s16.c",
            "s4": "wn_conv_s4.c"}
TARGETS = ["cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55", "cortex-a7", "cortex-a53",
           "cortex-a76", "x86", "x86-vnni"]
# (cin, cout, kernel): the base WaveNet's dilated conv (64 -> 2 x 128, two taps), its residual and
# skip projections, and an odd shape that exercises the tails
SHAPES = [(64, 256, 2), (128, 64, 1), (128, 128, 1), (33, 17, 1)]


def optimized_sources(target: Target) -> dict[str, Path]:
    """family -> the ISA header holding the target's optimized dot product for it (families the
    target does not optimize are left out)."""
    found = {}
    for family in FAMILIES:
        for folder in target.kernels:
            header = RUNTIME / folder / f"wn_dot_{folder}.h"
            if header.exists() and f"#define WN_HAVE_DOT_{family.upper()}\n" in header.read_text():
                found[family] = header
                break
    return found


def build(target: Target, sources: dict[str, Path], out: Path) -> Path:
    """The driver with the optimized sources and the renamed reference sources, for the target."""
    base = [target.cc, "-std=c99", *target.cflags, f"-I{RUNTIME / 'include'}", f"-I{RUNTIME / 'ref'}"]
    isa = out / "isa"  # the target's wn_dot_isa.h, as a generated project has it
    isa.mkdir(parents=True, exist_ok=True)
    for header, text in isa_dot_headers(target).items():
        (isa / header).write_text(text)
    objs = []
    for family, src in sources.items():
        name = FAMILIES[family]
        renames = [f"-D{fn}_{family}=ref_{fn}_{family}"
                   for fn in ("wn_conv", "wn_conv_ring", "wn_convt")]
        objs += [out / f"ref_{family}.o", out / f"opt_{family}.o"]
        subprocess.run([*base, "-c", *renames, str(RUNTIME / "ref" / name), "-o", str(objs[-2])],
                       check=True)
        subprocess.run([base[0], f"-I{isa}", *base[1:], "-c", str(RUNTIME / "ref" / name), "-o",
                        str(objs[-1])], check=True)
    exe = out / "kernels_bench.elf"
    cmd = [*base, *(f"-DWN_BENCH_{f.upper()}" for f in sources), str(DRIVER), *map(str, objs)]
    if target.bare_metal:
        cmd += [str(RUNTIME / "boards" / s) for s in target.startup]
        cmd += [f"-L{RUNTIME / 'boards'}", "-T", target.linker_script]
    subprocess.run([*cmd, *target.ldflags, "-o", str(exe)], check=True)
    return exe


def native_counter(target: Target) -> str:
    """How a native target's kernels are counted: "callgrind", or "ptrace" (single-stepping) when
    the target uses AVX-512, on which valgrind (3.19) stops with SIGILL. Both count the
    instructions inside the kernel function, callees included, and agree exactly where both run
    (tests/counting)."""
    return "callgrind" if counting.valgrind_can_run(target.cpu_flags) else "ptrace"


def count(target: Target, exe: Path, args: list[str], kernel: str, which: str, cwd: Path) -> int:
    """Instructions of REPS calls of one kernel: which = "opt" or "ref"."""
    if target.emulator == "native":
        fn = kernel if which == "opt" else f"ref_{kernel}"
        if native_counter(target) == "ptrace":
            c = counting.count_ptrace([str(exe), *args], fn, cwd=cwd)
        else:
            c = counting.count_callgrind([str(exe), *args], cwd=cwd, toggle=fn)
    else:
        c = counting.count_qemu(emulate.command(target, exe, args), exe,
                                f"wn_bench_{which}_begin", f"wn_bench_{which}_end", cwd)
        assert c.regions == 1 and not c.open_region, c
    return c.region_insns


def measure(target: Target, reps: int) -> list[dict]:
    sources = optimized_sources(target)
    rows = []
    with tempfile.TemporaryDirectory(prefix="wncc-kbench-") as tmp:
        exe = build(target, sources, Path(tmp))
        for family in sources:
            for cin, cout, k in SHAPES:
                kernel = f"wn_conv_{family}" if k == 1 else f"wn_conv_ring_{family}"
                args = [family, str(cin), str(cout), str(k), str(reps)]
                macs = reps * cin * cout * k
                opt = count(target, exe, args, kernel, "opt", Path(tmp))
                ref = count(target, exe, args, kernel, "ref", Path(tmp))
                rows.append({"target": target.name, "family": family, "kernel": kernel,
                             "source": str(sources[family].relative_to(REPO)),
                             "cin": cin, "cout": cout, "taps": k, "reps": reps, "macs": macs,
                             "opt_insns": opt, "ref_insns": ref,
                             "opt_insns_per_mac": round(opt / macs, 3),
                             "ref_insns_per_mac": round(ref / macs, 3),
                             "ref_over_opt": round(ref / opt, 2)})
                print(f"{target.name:11s} {family:6s} {cin:4d}x{cout:<4d} k{k}  "
                      f"ref {ref / macs:7.3f}  opt {opt / macs:7.3f}  insns/MAC  "
                      f"({ref / opt:5.2f}x)  {sources[family].relative_to(RUNTIME)}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", nargs="+", default=TARGETS)
    ap.add_argument("--reps", type=int, default=10, help="calls of each kernel per measurement")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    rows, skipped = [], {}
    for name in args.targets:
        target = load(name)
        tools = [target.cc] + ([target.emulator_binary or "qemu-system-arm"]
                               if target.emulator != "native"
                               else ["valgrind"] if native_counter(target) == "callgrind" else [])
        missing = [t for t in tools if shutil.which(t) is None]
        lacking = [f for f in target.cpu_flags if f not in emulate.host_cpu_flags()]
        if missing or lacking or not optimized_sources(target):
            skipped[name] = (f"missing {', '.join(missing + lacking)}" if missing or lacking
                             else "no optimized integer convolutions")
            print(f"{name}: skipped ({skipped[name]})")
            continue
        rows += measure(target, args.reps)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "what": "retired instructions per multiply-accumulate, optimized vs reference kernels "
                "(qemu TCG plugin on ARM, callgrind on x86, ptrace single-stepping on x86 with "
                "AVX-512); not cycles",
        "reps": args.reps, "rows": rows, "skipped": skipped}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

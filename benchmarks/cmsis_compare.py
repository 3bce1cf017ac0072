"""wncc's int8 matrix-vector kernels against CMSIS-NN's, instructions per multiply-accumulate, in
one run, on the emulated Cortex-M4, M7 and M55.

CMSIS-NN comes from a checkout named by WNCC_CMSIS_NN (or --cmsis-nn): ARM-software/CMSIS-NN,
obtained at benchmark time, never committed. Its fully connected sources and support functions
are built with each target's toolchain and flags (CMSIS_NN_USE_SINGLE_ROUNDING: wncc's default
rounding) beside benchmarks/cmsis_bench.c and wncc's kernels; per shape (Cout x Cin: 64x64,
128x128, 256x128, 128x256) the driver runs four kernels REPS times each between markers, and
checks every output equal to wncc's portable reference kernel:

  packed   wncc's packed layout for the core (dsp4 on M4/M7, mve4 on M55; what `wncc compile`
           emits for a dense int8 pointwise or ring convolution)
  wncc     wncc's reference layout with the core's multi-row dot products
  fc       arm_fully_connected_s8 (per-tensor requantization)
  fc_pc    arm_fully_connected_per_channel_s8

The qemu plugin (wncc/counting.py) counts the retired instructions between each pair of markers:
exact and repeatable, not cycles. The layer has an input zero point (-128, an input offset of 128
for CMSIS-NN, which wncc folds into its biases at compile time); on Helium CMSIS-NN's kernel sums
are made once before the counted region, as at model load.

    WNCC_CMSIS_NN=/path/to/CMSIS-NN python benchmarks/cmsis_compare.py
    python benchmarks/cmsis_compare.py --cmsis-nn PATH --targets cortex-m55 --reps 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from wncc import counting, emulate  # noqa: E402
from wncc.codegen.project import isa_dot_headers  # noqa: E402
from wncc.ops.layout import LAYOUTS, packed_entries  # noqa: E402
from wncc.targets import Target, load  # noqa: E402

RUNTIME = REPO / "runtime_c"
DRIVER = REPO / "benchmarks" / "cmsis_bench.c"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "cmsis_compare.json"
TARGETS = ["cortex-m4", "cortex-m7", "cortex-m55"]
SHAPES = [(64, 64), (128, 128), (256, 128), (128, 256)]  # (Cout, Cin)
REGIONS = ("packed", "wncc", "fc", "fc_pc")
CMSIS_DIRS = ("Source/FullyConnectedFunctions", "Source/NNSupportFunctions")
PACKED_FOLDER = {"dsp4": "dsp", "mve4": "mve"}


def _cc(target: Target, args: list[str]) -> None:
    cmd = [target.cc, "-std=c99", *target.cflags, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)}\n{proc.stderr}")


def cmsis_library(target: Target, root: Path, out: Path) -> Path:
    """CMSIS-NN's int8 fully connected functions and their support functions as one archive."""
    objs = []
    for folder in CMSIS_DIRS:
        for src in sorted((root / folder).glob("*_s8*.c")):
            obj = out / f"cmsis_{src.stem}.o"
            _cc(target, ["-DCMSIS_NN_USE_SINGLE_ROUNDING", f"-I{root / 'Include'}", "-c",
                         str(src), "-o", str(obj)])
            objs.append(obj)
    lib = out / "libcmsisnn.a"
    subprocess.run([target.ar, "rcs", str(lib), *map(str, objs)], check=True)
    return lib


def case_header(cout: int, cin: int, layout: str, seed: int = 0) -> str:
    """cmsis_case.h: the layer, its inputs and both layouts' tables (cmsis_bench.c)."""
    rng = np.random.default_rng(seed)
    w = rng.integers(-127, 128, (cout, cin)).astype(np.int8)
    x = rng.integers(-128, 128, cin).astype(np.int8)
    xoff = 128  # input zero point -128
    typical = int(np.log2(128 * 128 * np.sqrt(cin)))
    bias = rng.integers(-(1 << typical), 1 << typical, cout).astype(np.int64)
    folded = bias + xoff * w.astype(np.int64).sum(axis=1)
    mult = rng.integers(1 << 30, (1 << 31) - 1, cout).astype(np.int64)
    shift = rng.integers(-typical + 4, -typical + 9, cout).astype(np.int64)
    q = SimpleNamespace(bias=folded, mult=mult, shift=shift)
    pk = [v for _, _, v, _, _ in packed_entries(q, w[:, None, :], LAYOUTS[layout])]

    def arr(name: str, ctype: str, values: np.ndarray) -> str:
        return (f"static const {ctype} {name}[] = {{"
                + ", ".join(str(int(v)) for v in np.asarray(values).reshape(-1)) + "};\n")

    return (f"#define COUT {cout}\n#define CIN {cin}\n#define XOFF {xoff}\n#define ZP 5\n"
            f"#define WN_PACKED wn_conv_{layout}_s8\n"
            + arr("W", "int8_t", w) + arr("X", "int8_t", x) + arr("B", "int32_t", bias)
            + arr("B_FOLDED", "int32_t", folded) + arr("MULT", "int32_t", mult)
            + arr("SHIFT", "int8_t", shift) + arr("W_PK", "int8_t", pk[0])
            + arr("B_PK", "int32_t", pk[1]) + arr("MULT_PK", "int32_t", pk[2])
            + arr("SHIFT_PK", "int8_t", pk[3]))


def build(target: Target, root: Path, lib: Path, cout: int, cin: int, reps: int, out: Path
          ) -> Path:
    """The driver for one shape, with wncc's kernels and the CMSIS-NN archive."""
    layout = target.packed
    (out / "cmsis_case.h").write_text(case_header(cout, cin, layout))
    isa = out / "isa"
    isa.mkdir(exist_ok=True)
    for name, text in isa_dot_headers(target).items():
        (isa / name).write_text(text)
    inc = [f"-I{RUNTIME / 'include'}", f"-I{RUNTIME / 'ref'}"]
    objs = [out / "ref.o", out / "opt.o", out / "packed.o"]
    _cc(target, ["-Dwn_conv_s8=ref_wn_conv_s8", "-Dwn_conv_ring_s8=ref_wn_conv_ring_s8",
                 "-Dwn_convt_s8=ref_wn_convt_s8", *inc, "-c", str(RUNTIME / "ref" / "wn_conv_s8.c"),
                 "-o", str(objs[0])])
    _cc(target, [f"-I{isa}", *inc, "-c", str(RUNTIME / "ref" / "wn_conv_s8.c"), "-o", str(objs[1])])
    _cc(target, [f"-I{isa}", *inc, "-c",
                 str(RUNTIME / PACKED_FOLDER[layout] / f"wn_conv_{layout}_s8.c"), "-o", str(objs[2])])
    exe = out / "cmsis_bench.elf"
    cmd = [f"-DREPS={reps}", f"-I{out}", f"-I{root / 'Include'}", *inc, str(DRIVER),
           *map(str, objs), str(lib)]
    if target.bare_metal:
        cmd += [str(RUNTIME / "boards" / s) for s in target.startup]
        cmd += [f"-L{RUNTIME / 'boards'}", "-T", target.linker_script]
    _cc(target, [*cmd, *target.ldflags, "-o", str(exe)])
    return exe


def measure(target: Target, root: Path, reps: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="wncc-cmsis-") as tmp:
        work = Path(tmp)
        lib = cmsis_library(target, root, work)
        for cout, cin in SHAPES:
            exe = build(target, root, lib, cout, cin, reps, work)
            run = emulate.run(exe, target, [], timeout=600)
            if not run.passed({}):
                raise SystemExit(f"{target.name} {cout}x{cin}: {run.describe()}")
            macs = reps * cout * cin
            per_mac = {}
            for region in REGIONS:
                c = counting.count_qemu(emulate.command(target, exe, []), exe,
                                        f"wn_bench_{region}_begin", f"wn_bench_{region}_end", work)
                assert c.regions == 1 and not c.open_region, c
                per_mac[region] = round(c.region_insns / macs, 3)
            rows.append({"target": target.name, "cout": cout, "cin": cin, "reps": reps,
                         "packed_layout": target.packed, "insns_per_mac": per_mac,
                         "outputs_equal_reference": True})
            print(f"{target.name:11s} {cout:4d}x{cin:<4d} " + "  ".join(
                f"{r} {per_mac[r]:6.3f}" for r in REGIONS) + "  insns/MAC", flush=True)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| core | Cout x Cin | wncc packed | wncc reference layout | "
             "arm_fully_connected_s8 | arm_fully_connected_per_channel_s8 |",
             "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        m = r["insns_per_mac"]
        lines.append(f"| {r['target']} | {r['cout']}x{r['cin']} | {m['packed']:.3f} "
                     f"({r['packed_layout']}) | {m['wncc']:.3f} | {m['fc']:.3f} | "
                     f"{m['fc_pc']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cmsis-nn", type=Path, default=os.environ.get("WNCC_CMSIS_NN"),
                    help="CMSIS-NN checkout (default $WNCC_CMSIS_NN)")
    ap.add_argument("--targets", nargs="+", default=TARGETS)
    ap.add_argument("--reps", type=int, default=10, help="calls of each kernel per measurement")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    if args.cmsis_nn is None or not (Path(args.cmsis_nn) / "Include" / "arm_nnfunctions.h").is_file():
        ap.error("name a CMSIS-NN checkout: --cmsis-nn PATH or WNCC_CMSIS_NN")
    root = Path(args.cmsis_nn).resolve()
    rows = []
    for name in args.targets:
        rows += measure(load(name), root, args.reps)
    print(markdown(rows))
    header = (root / "Include" / "arm_nnfunctions.h").read_text()
    version = next((line.split("$Revision:")[1].strip() for line in header.splitlines()
                    if "$Revision:" in line), "unknown")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "what": "retired instructions per multiply-accumulate (qemu TCG plugin), wncc vs "
                "CMSIS-NN, every output equal to wncc's portable reference kernel; not cycles",
        "cmsis_nn_version": version, "reps": args.reps, "rows": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

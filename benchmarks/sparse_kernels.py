"""Sparse vs dense int8 kernels at 90% block sparsity, per layer shape of `base`, on the host.

For each weight-matrix shape of the base model (dilated conv 128 x 2*64, conditioning 128 x 80,
residual 64 x 64, skip 128 x 64, head 128 x 128 and 256 x 128), random int8 weights with 90% of
their 4x4 blocks zeroed are stored dense, bsr:4x4, csr and bitmask; one C program (reference
kernels from runtime_c/ref, -O2) runs each kernel. Reported, in the same run:

* instructions per call (valgrind callgrind, exact and repeatable) and their ratio to dense;
* wall time per call (best of repeats, in-process clock) and its ratio to dense.

    python benchmarks/sparse_kernels.py [--sparsity 0.9] [--block 4x4] [--out JSON]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wncc.codegen.weights import c_initializer  # noqa: E402
from wncc.counting import count_callgrind  # noqa: E402
from wncc.arith.qmath import quantize_multiplier  # noqa: E402
from wncc.sparse.formats import encode, parse  # noqa: E402

SHAPES = {"layers.*.conv (k=2)": (128, 128), "layers.*.cond": (128, 80), "layers.*.res": (64, 64),
          "layers.*.skip": (128, 64), "head1": (128, 128), "head2": (256, 128)}
FORMATS = ("dense", "bsr", "csr", "bitmask")
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "sparse_kernels.json"

DRIVER = r"""
#include <stdio.h>
#include <time.h>
#include "wn_runtime.h"
#include "bench_data.h"

static int8_t y[ROWS];
static volatile int32_t sink;

void bench_dense(int reps) { int r; for (r = 0; r < reps; ++r) wn_conv_s8(y, X, W, &RQ, COLS, ROWS); }
void bench_bsr(int reps) { int r; for (r = 0; r < reps; ++r) wn_spmv_bsr_s8(y, X, &BSR, BSR_V, &RQ); }
void bench_csr(int reps) { int r; for (r = 0; r < reps; ++r) wn_spmv_csr_s8(y, X, &CSR, CSR_V, &RQ); }
void bench_bitmask(int reps) { int r; for (r = 0; r < reps; ++r) wn_spmv_bitmask_s8(y, X, &BM, BM_V, &RQ); }

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

int main(int argc, char **argv) {
    void (*fns[4])(int) = {bench_dense, bench_bsr, bench_csr, bench_bitmask};
    const char *names[4] = {"dense", "bsr", "csr", "bitmask"};
    int reps = argc > 1 ? atoi(argv[1]) : 1, timed = argc > 2, f, k;
    for (f = 0; f < 4; ++f) {
        double best = 1e30;
        for (k = 0; k < (timed ? 7 : 1); ++k) {
            double t0 = now();
            fns[f](reps);
            if (now() - t0 < best) best = now() - t0;
        }
        if (timed) printf("%s %.3f\n", names[f], 1e9 * best / reps);
        sink += y[0];
    }
    return 0;
}
"""


def block_pruned(rows: int, cols: int, sparsity: float, block: tuple[int, int], rng) -> np.ndarray:
    r, c = block
    keep = rng.random((rows // r, cols // c)) >= sparsity
    return rng.integers(-127, 128, (rows, cols)) * np.kron(keep, np.ones(block, np.int64))


def arr(name: str, ctype: str, values: np.ndarray) -> str:
    return f"static const {ctype} {name}[{max(values.size, 1)}] = {{{c_initializer(values) or '0'}}};\n"


def sparse_struct(name: str, enc) -> str:
    a = enc.arrays
    ptr = f"{name}_PTR" if "row_ptr" in a else "NULL"
    col = f"{name}_COL" if "col" in a else "NULL"
    mask = f"{name}_MASK" if "mask" in a else "NULL"
    pb = a["row_ptr"].itemsize if "row_ptr" in a else 0
    cb = a["col"].itemsize if "col" in a else 0
    return (f"static const wn_sparse {name} = {{{ptr}, {col}, {mask}, {pb}, {cb}, {enc.rows}, "
            f"{enc.cols}, {enc.fmt.block[0]}, {enc.fmt.block[1]}}};\n")


def data_header(m: np.ndarray, block: tuple[int, int], rng) -> str:
    rows, cols = m.shape
    mult, shift = quantize_multiplier(0.004)
    text = "#include <stdlib.h>\n" + f"#define ROWS {rows}\n#define COLS {cols}\n"
    text += arr("X", "int8_t", rng.integers(-128, 128, cols).astype(np.int8))
    text += arr("W", "int8_t", m.reshape(-1).astype(np.int8))
    text += arr("BIAS", "int32_t", rng.integers(-5000, 5000, rows).astype(np.int32))
    text += arr("MULT", "int32_t", np.full(rows, mult, np.int32))
    text += arr("SHIFT", "int8_t", np.full(rows, shift, np.int8))
    text += "static const wn_rq RQ = {BIAS, MULT, SHIFT, 0, 4, 1};\n"
    for name, fmt in (("BSR", f"bsr:{block[0]}x{block[1]}"), ("CSR", "csr"), ("BM", "bitmask")):
        enc = encode(m, parse(fmt), 8)
        for key, suffix in (("row_ptr", "PTR"), ("col", "COL"), ("mask", "MASK")):
            if key in enc.arrays:
                a = enc.arrays[key]
                text += arr(f"{name}_{suffix}", f"{a.dtype.name}_t", a)
        text += arr(f"{name}_V", "int8_t", enc.arrays["values"].astype(np.int8))
        text += sparse_struct(name, enc)
    return text


def build(work: Path, header: str) -> Path:
    (work / "bench_data.h").write_text(header)
    (work / "bench.c").write_text(DRIVER)
    ref = ROOT / "runtime_c" / "ref"
    srcs = [ref / n for n in ("wn_conv_s8.c", "wn_sparse_s8.c")]
    exe = work / "bench"
    subprocess.run(["cc", "-std=gnu99", "-O2", "-ffp-contract=off", f"-I{ROOT / 'runtime_c' / 'include'}",
                    f"-I{ref}", f"-I{work}", "-o", str(exe), str(work / "bench.c"), *map(str, srcs)],
                   check=True)
    return exe


def measure(shape: tuple[int, int], sparsity: float, block: tuple[int, int], seed: int,
            reps: int) -> dict:
    rng = np.random.default_rng(seed)
    m = block_pruned(*shape, sparsity, block, rng)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        exe = build(work, data_header(m, block, rng))
        out = {"rows": shape[0], "cols": shape[1], "density": float(np.count_nonzero(m)) / m.size}
        for fmt in FORMATS:
            c = count_callgrind([str(exe), "10"], cwd=work, toggle=f"bench_{fmt}")
            out[f"{fmt}_insns_per_call"] = c.region_insns / 10
        timing = subprocess.run([str(exe), str(reps), "t"], capture_output=True, text=True,
                                check=True).stdout.split()
        times = dict(zip(timing[0::2], map(float, timing[1::2])))
        for fmt in FORMATS:
            out[f"{fmt}_ns_per_call"] = times[fmt]
            out[f"{fmt}_insn_ratio"] = out[f"{fmt}_insns_per_call"] / out["dense_insns_per_call"]
            out[f"{fmt}_time_ratio"] = times[fmt] / times["dense"]
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sparsity", type=float, default=0.9)
    ap.add_argument("--block", default="4x4")
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed (apt-get install valgrind)")
    block = tuple(int(v) for v in args.block.split("x"))
    results = {name: measure(shape, args.sparsity, block, args.seed, args.reps)
               for name, shape in SHAPES.items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"sparsity": args.sparsity, "block": args.block,
                                    "layers": results}, indent=2) + "\n")
    print(f"| layer (rows x cols) | density | dense insns | bsr:{args.block} | csr | bitmask | "
          f"bsr time ratio | csr time ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} ({r['rows']}x{r['cols']}) | {100 * r['density']:.1f}% | "
              f"{r['dense_insns_per_call']:,.0f} | {r['bsr_insn_ratio']:.3f}x | "
              f"{r['csr_insn_ratio']:.3f}x | {r['bitmask_insn_ratio']:.3f}x | "
              f"{r['bsr_time_ratio']:.3f}x | {r['csr_time_ratio']:.3f}x |")


if __name__ == "__main__":
    main()

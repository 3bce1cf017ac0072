"""Host generation speed of one compiled model built with -O2 (the old host flags) and with the
host target's flags, interleaved in one run, and whether both generate the same samples.

    python benchmarks/host_flags.py [MODEL.onnx] [--frames 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wncc.compiler import compile_model  # noqa: E402
from wncc.harness import CModel  # noqa: E402
from wncc.targets import load as load_target  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", default=str(ROOT / "examples" / "models" / "base.onnx"))
    ap.add_argument("--frames", type=int, default=2, help="mel frames generated per repeat")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        _, project = compile_model(args.model, Path(tmp) / "p")
        builds = {"-O2": None, " ".join(load_target("host").cflags): None}
        for i, flags in enumerate(builds):
            copy = Path(tmp) / f"b{i}"
            shutil.copytree(project, copy)  # each build keeps its own library
            builds[flags] = CModel(copy, cflags=flags)
        mel = np.random.default_rng(0).standard_normal(
            (args.frames, next(iter(builds.values())).n_mels)).astype(np.float32)
        best = {flags: float("inf") for flags in builds}
        classes = {}
        for _ in range(args.repeats):
            for flags, model in builds.items():
                start = time.perf_counter()
                classes[flags], _ = model.vocode(mel, seed=1)
                per_sample = (time.perf_counter() - start) / classes[flags].size * 1e6
                best[flags] = min(best[flags], per_sample)
    for flags, us in best.items():
        print(f"{flags:>24}: {us:.1f} us/sample (best of {args.repeats})")
    first, second = classes.values()
    print("identical samples:", bool(np.array_equal(first, second)))


if __name__ == "__main__":
    main()

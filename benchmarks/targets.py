"""Instructions per sample and per MAC, flash and RAM, of tiny and base int8 on every core.

    python benchmarks/targets.py [--models tiny base] [--frames 1] [--out JSON]

Quantizes examples/models/{tiny,base}.onnx to int8 (calibrated on the shipped clip), then runs
`wn_vocode --bench` under each target's emulator with the instruction-count plugin (callgrind on
x86). Real-time factors are estimates at the targets' nominal clocks, one instruction per cycle.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wncc.bench.target import bench, markdown  # noqa: E402
from wncc.quant.quantize import quantize  # noqa: E402

TARGETS = ("cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55", "cortex-a7",
           "cortex-a53", "cortex-a76", "x86")
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "targets.json"


def shipped_quantized(names: list[str], dtype: str, folder: Path) -> Iterator[Path]:
    """examples/models/<name>.onnx quantized to dtype, calibrated on the shipped clip."""
    clip = ROOT / "examples" / "data" / "test_clip.wav"
    for name in names:
        yield quantize(ROOT / "examples" / "models" / f"{name}.onnx", dtype, clip,
                       folder / f"{name}.onnx")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["tiny", "base"])
    ap.add_argument("--targets", nargs="+", default=list(TARGETS))
    ap.add_argument("--dtype", default="int8")
    ap.add_argument("--frames", type=int, default=1)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    mel = np.load(ROOT / "examples" / "data" / "test_clip_mel.npy")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in shipped_quantized(args.models, args.dtype, Path(tmp)):
            for target in args.targets:
                row = bench(model, target, args.dtype, args.frames, mel)
                print(markdown([row]).splitlines()[-1], flush=True)
                rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([dataclasses.asdict(r) for r in rows], indent=2) + "\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()

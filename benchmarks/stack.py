"""Worst-case stack of the emitted library per target, beside the stack painted on the board.

    python benchmarks/stack.py [--models tiny base] [--targets ...] [--dtype int8] [--out JSON]

Quantizes examples/models/{tiny,base}.onnx (calibrated on the shipped clip), compiles and builds
for each target (report.json "stack": gcc's -fstack-usage/-fcallgraph-info over the call graph,
plus the ABI red zone), then runs `wn_vocode --stack` under the target's emulator, which paints
the stack and reports how deep the API calls reached.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wncc import emulate  # noqa: E402
from wncc.compiler import compile_model  # noqa: E402
from wncc.targets import load as load_target  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from targets import TARGETS, shipped_quantized  # noqa: E402
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "stack.json"


def measure(model: Path, target: str, dtype: str, work: Path) -> dict:
    tgt = load_target(target)
    _, project = compile_model(model, work / f"{model.stem}-{target}", target=target, dtype=dtype)
    exe = emulate.build(project, tgt)
    report = json.loads((project / "report.json").read_text())
    run = emulate.run(exe, tgt, ["--stack"], timeout=600)
    painted = next(int(line.split()[1]) for line in run.stdout.splitlines()
                   if line.startswith("stack "))
    return {"target": target, "model": model.stem, "dtype": dtype,
            "stack_bytes": report["stack"]["bytes"], "painted_bytes": painted,
            "red_zone_bytes": report["stack"]["red_zone_bytes"],
            "deepest_path": report["stack"]["deepest_path"],
            "ram_bytes": report["elf"]["ram_bytes"],
            "ram_with_stack_bytes": report["elf"]["ram_with_stack_bytes"]}


def markdown(rows: list[dict]) -> str:
    lines = ["| target | model | worst-case stack (analysis) | painted on the board | "
             "RAM + stack bytes | deepest call chain |", "|---|---|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['target']} | {r['model']} {r['dtype']} | {r['stack_bytes']:,} | "
                     f"{r['painted_bytes']:,} | {r['ram_with_stack_bytes']:,} | "
                     f"{' > '.join(r['deepest_path'])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["tiny", "base"])
    ap.add_argument("--targets", nargs="+", default=list(TARGETS))
    ap.add_argument("--dtype", default="int8")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in shipped_quantized(args.models, args.dtype, Path(tmp)):
            for target in args.targets:
                rows.append(measure(model, target, args.dtype, Path(tmp)))
                print(markdown(rows[-1:]).splitlines()[-1], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()

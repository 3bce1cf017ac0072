"""Generation speed: generated C vs naive ONNX Runtime / PyTorch re-computation, single thread.

A thin script over ``wncc bench`` (wncc/cli/bench.py, wncc/bench/generate.py) that keeps the
results in benchmarks/results/ unless --json says otherwise. Speeds are only comparable within
one run (same machine, same moment), so the figures to quote are the ratios.

    python benchmarks/generate_speed.py --configs tiny base --samples 20000 --naive-samples 300
    python benchmarks/generate_speed.py --quick
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from wncc.cli import main as wncc  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"


def main(argv: list[str]) -> int:
    if not any(a == "--json" or a.startswith("--json=") for a in argv):
        name = "generate_speed_quick.json" if "--quick" in argv else "generate_speed.json"
        argv = [*argv, "--json", str(RESULTS / name)]  # --quick keeps the real results
    return wncc(["bench", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

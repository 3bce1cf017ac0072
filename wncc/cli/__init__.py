"""wncc command line. Each subcommand registers itself from its own module (``register``); the
options they share are defined once in ``wncc.cli.options``.

Exit status: 0 success, 1 a verification check failed, 2 bad input (one line on stderr:
``wncc: error: ...``).
"""

from __future__ import annotations

import argparse
import sys

from wncc import __version__
from wncc.options import Parser


def parser() -> argparse.ArgumentParser:
    from wncc.cli import (bench, compile, export, inspect, sensitivity, study, verify,
                          vocode)
    from wncc.fidelity import command as fidelity
    from wncc.mlperf import command as mlperf
    from wncc.prune import command as prune
    from wncc.quant import command as quantize

    ap = Parser(prog="wncc", description="Compile WaveNet vocoders (ONNX) to standalone C, "
                "verified against the model.")
    ap.add_argument("--version", action="version", version=f"wncc {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (compile, verify, quantize, prune, sensitivity, study, fidelity, bench, mlperf,
                   inspect, vocode, export):
        module.register(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    from wncc.console import err
    from wncc.errors import WnccError

    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    try:
        return args.func(args, argv)
    except WnccError as exc:
        err.print(f"wncc: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err.print("wncc: interrupted")
        return 130

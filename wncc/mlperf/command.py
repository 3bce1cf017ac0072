"""``wncc mlperf MODEL|DIR --data AUDIO -o OUTDIR [--scenario S]... [--mode performance|accuracy]
[--backend c|ort|TARGET]... [--dtype D] [--calib AUDIO] [--quick] [--json OUT]`` and
``wncc mlperf-accuracy OUTDIR [--reference REF_OUTDIR]``: the CLI front door of
``wncc.mlperf.benchmark``. ``register`` adds both subcommands to a parser; ``main(argv)`` runs
them on their own (``python -m wncc.mlperf.command mlperf ...``)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from wncc import options
from wncc.arith.precision import DTYPES
from wncc.mlperf import report, scenarios
from wncc.mlperf.benchmark import Options, rescore, run
from wncc.text import one_line


def _print(result: dict, title: str) -> None:
    from rich.table import Table
    from rich.text import Text

    from wncc.console import out

    if result["backends"]:
        qsl = result["qsl"]
        table = Table(title=Text(one_line(title)),
                      caption=f"{qsl['excerpts']} excerpt(s) of {qsl['seconds_each']:g} s; time "
                              f"to first audio = {1e3 * result['lookahead_s']:g} ms lookahead + "
                              "the first hop")
        for col in ("backend", "scenario", "result", "first audio p50", "LoadGen"):
            table.add_column(col)
        for row in report.rows(result):
            table.add_row(*(Text(one_line(c)) for c in row))
        out.print(table)
    acc = result.get("accuracy")
    if acc:
        scores = ", ".join(f"{k} {v:.4f}" for k, v in acc["scores"].items()
                           if isinstance(v, float))
        out.print(f"accuracy ({acc['scores']['samples_scored']} samples): {scores}",
                  markup=False, highlight=False)
        if acc.get("verdict"):
            table = Table(title=f"vs fp32 ({acc['reference']['model']['name']}): "
                                f"99% {acc['verdict']['99%']}, 99.9% {acc['verdict']['99.9%']} "
                                f"(by {acc['verdict']['primary']})")
            for col in ("metric", "model", "fp32", "fraction", "99%", "99.9%"):
                table.add_column(col)
            for row in report.verdict_rows(result):
                table.add_row(*row)
            out.print(table)


def _finish(result: dict, args: argparse.Namespace, title: str, start: float) -> int:
    from wncc.console import err, out

    _print(result, title)
    if args.json:
        report.write_json(result, Path(args.json))
        out.print(f"wrote {args.json}", markup=False, highlight=False)
    err.print(f"[dim]{time.time() - start:.1f} s[/]")
    return 0


def handler(args: argparse.Namespace, argv: list[str]) -> int:
    from wncc.console import progress

    start = time.time()
    opts = Options(model=args.model, data=args.data, output=args.output,
                   scenarios=tuple(args.scenario or scenarios.SCENARIOS), mode=args.mode,
                   backends=tuple(args.backend or ("c",)), dtype=args.dtype, calib=args.calib,
                   quick=args.quick, split=args.split, seconds=args.seconds,
                   samples=args.samples, workers=args.workers, seed=args.seed,
                   temperature=args.temperature, server_bound_rt=args.server_bound,
                   server_steps=args.server_steps, reference=args.reference)
    with progress("mlperf") as update:
        result = run(opts, update)
    label = "accuracy" if args.mode == "accuracy" else ("quick" if args.quick else "full")
    return _finish(result, args, f"wncc mlperf {Path(args.model).name} "
                   f"({result['model']['dtype']}, {label}) -> {args.output}", start)


def accuracy_handler(args: argparse.Namespace, argv: list[str]) -> int:
    start = time.time()
    result = rescore(Path(args.folder), Path(args.reference) if args.reference else None)
    return _finish(result, args, f"wncc mlperf-accuracy {args.folder}", start)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``mlperf`` and ``mlperf-accuracy`` (handlers: ``args.func(args, argv) -> int``);
    returns the ``mlperf`` parser."""
    p = subparsers.add_parser("mlperf", help="MLPerf-style benchmark with the MLPerf LoadGen: "
                              "SingleStream, MultiStream, Server, Offline; accuracy mode and the "
                              "99%% rule")
    options.model(p, project=True)
    p.add_argument("--data", required=True, metavar="AUDIO",
                   help=f"held-out speech, 16 kHz mono 16-bit: {options.AUDIO_FORMS}")
    p.add_argument("--split", default="test", help="corpus split (default test)")
    options.seconds(p, 1.0, "length of each excerpt (query sample) in seconds")
    p.add_argument("--samples", type=options.number(int, "--samples"), default=64,
                   help="query samples: the first N excerpts (default 64; 0 = all)")
    p.add_argument("--scenario", action="append", metavar="S",
                   help=f"{', '.join(scenarios.SCENARIOS)} (repeatable; default all four; "
                   "accuracy mode runs the first)")
    p.add_argument("--mode", default="performance", help="performance (default) or accuracy")
    p.add_argument("--backend", action="append", metavar="c|ort|TARGET",
                   help="c: the compiled C on the host; ort: ONNX Runtime's teacher-forced "
                   "lower bound; a target name: SingleStream estimate from instruction counts "
                   "(repeatable; default c)")
    options.dtype(p, choices=("auto", *DTYPES), default="auto",
                  note=": the model's own; an integer dtype quantizes a float model with --calib")
    options.calib(p, "; quantizes a float model to an integer --dtype")
    p.add_argument("--quick", action="store_true",
                   help="1 s and 64 queries per LoadGen run, MultiStream and Server judged at "
                   "p90 (tests, CI, slow models); default: MLPerf's minimums")
    p.add_argument("--workers", type=options.number(int, "--workers"), default=2,
                   help="worker threads, one engine each (default 2)")
    options.sampling(p, sample_rate=False, seed_of="the sampling (sample i uses seed + i)")
    p.add_argument("--server-bound", type=options.number(float, "--server-bound"), default=0.0,
                   metavar="K", help="Server latency bound: the utterance within K x real time "
                   "(default: chosen per model, stated in the output)")
    p.add_argument("--server-steps", type=options.number(int, "--server-steps"), default=0,
                   metavar="N", help="LoadGen runs of the Server QPS bisection (default 4 with "
                   "--quick, else 8)")
    p.add_argument("--reference", metavar="REF_OUTDIR",
                   help="accuracy mode: the output folder of the fp32 accuracy run to compare "
                   "with (default: a float model run compressed runs its fp32 itself)")
    options.json_out(p, "every figure and the settings (also OUTDIR/mlperf.json)")
    options.output(p, "output folder: LoadGen's logs, mlperf.json, mlperf.png")
    p.set_defaults(func=handler)

    a = subparsers.add_parser("mlperf-accuracy", help="score an mlperf accuracy run's LoadGen "
                              "log again and give the 99%% / 99.9%% verdict against fp32")
    a.add_argument("folder", help="output folder of wncc mlperf --mode accuracy")
    a.add_argument("--reference", metavar="REF_OUTDIR",
                   help="output folder of the fp32 accuracy run (default: the run's own)")
    options.json_out(a, "the result")
    a.set_defaults(func=accuracy_handler)
    return p


def main(argv: list[str] | None = None) -> int:
    """``mlperf ...`` or ``mlperf-accuracy ...`` without the wncc CLI; a WnccError propagates
    (one line; the CLI prints it and exits 2)."""
    parser = options.Parser(prog="wncc")
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    return args.func(args, argv)


if __name__ == "__main__":
    from wncc.errors import WnccError

    try:
        sys.exit(main())
    except WnccError as exc:
        print(f"wncc: error: {exc}", file=sys.stderr)
        sys.exit(2)

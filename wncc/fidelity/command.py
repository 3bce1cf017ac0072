"""``wncc fidelity MODEL.onnx|DIR --data DATA [--split test] [--utterances N] [--seconds S]
[--seed] [--temperature] [--json OUT]``: the CLI front door of ``wncc.fidelity.evaluate``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from wncc import options
from wncc.arith.precision import DTYPES
from wncc.fidelity import evaluate as ev
from wncc.text import one_line


def handler(args: argparse.Namespace, argv: list[str]) -> int:
    from rich.table import Table
    from rich.text import Text

    from wncc.console import err, out, progress

    start = time.time()
    with progress("evaluating") as update:
        result = ev.evaluate(args.model, args.data, split=args.split,
                             utterances=args.utterances, seconds=args.seconds, seed=args.seed,
                             temperature=args.temperature, gl_iters=args.gl_iters,
                             dtype=args.dtype, json_path=args.json, progress=update)
    data = result["data"]
    where = f"{data['source']}" + (f" ({data['split']})" if data["split"] else "")
    table = Table(title=Text(one_line(f"wncc fidelity {Path(args.model).name} "
                                      f"({result['model']['dtype']}) on {where}: "
                                      f"{data['utterances']} utterance(s), "
                                      f"{data['seconds']:.1f} s")),
                  caption=f"seed {args.seed}, temperature {args.temperature:g}; unigram entropy "
                          f"of the mu-law classes {result['unigram_bits']:.3f} bits/sample")
    table.add_column("", no_wrap=True)
    for _, _, title, _ in ev.COLUMNS:
        table.add_column(title, justify="right")
    for label, cells in ev.table_rows({Path(args.model).name: result}):
        table.add_row(Text(one_line(label)), *cells)
    out.print(table)
    missing = {row: m for row, s in result["summary"].items() if (m := s["missing"])}
    if missing:
        out.print(f"metrics missing for some utterances (averaged over the rest): {missing}")
    if args.json:
        out.print(f"wrote {args.json}", markup=False, highlight=False)
    err.print(f"[dim]{time.time() - start:.1f} s[/]")
    return 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``fidelity`` subcommand (its handler is ``args.func(args, argv) -> int``)."""
    p = subparsers.add_parser("fidelity", help="vocode held-out speech through the compiled C and "
                              "score it (NLL, PESQ, STOI, LSD, MCD) beside the mu-law ceiling and "
                              "Griffin-Lim")
    options.model(p, project=True)
    options.data(p, "; the held-out utterances scored")
    p.add_argument("--split", default="test", help="corpus split (default test)")
    p.add_argument("--utterances", type=options.number(int, "--utterances"),
                   default=ev.DEFAULT_UTTERANCES,
                   help=f"first N utterances (default {ev.DEFAULT_UTTERANCES}; 0 = all)")
    options.seconds(p, ev.DEFAULT_SECONDS, "first S seconds of each utterance; 0 = whole")
    options.sampling(p, sample_rate=False, seed_of="the sampling (utterance i uses seed + i)")
    p.add_argument("--gl-iters", type=options.number(int, "--gl-iters"), default=ev.DEFAULT_GL_ITERS,
                   help=f"Griffin-Lim iterations (default {ev.DEFAULT_GL_ITERS})")
    options.dtype(p, choices=("auto", *DTYPES), default="auto",
                  note=": detected, fp32 or the QDQ model's integer type")
    options.json_out(p, "the full result (per utterance and summary)")
    p.set_defaults(func=handler)
    return p


"""``wncc fidelity MODEL.onnx|DIR --data DATA [--split test] [--utterances N] [--seconds S]
[--seed] [--temperature] [--json OUT]``: the CLI front door of ``wncc.fidelity.evaluate``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from wncc.errors import WnccError
from wncc.fidelity import evaluate as ev


def _number(kind, name: str):
    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} expects a number, got '{text}'") from None
    return parse


def handler(args: argparse.Namespace, argv: list[str]) -> int:
    from rich.console import Console
    from rich.table import Table

    out, err = Console(), Console(stderr=True)
    start = time.time()
    with err.status("evaluating") as st:
        result = ev.evaluate(args.model, args.data, split=args.split,
                             utterances=args.utterances, seconds=args.seconds, seed=args.seed,
                             temperature=args.temperature, gl_iters=args.gl_iters,
                             dtype=args.dtype, json_path=args.json,
                             progress=lambda text: st.update(f"evaluating: {text}"))
    data = result["data"]
    where = f"{data['source']}" + (f" ({data['split']})" if data["split"] else "")
    table = Table(title=f"wncc fidelity {Path(args.model).name} ({result['model']['dtype']}) on "
                        f"{where}: {data['utterances']} utterance(s), {data['seconds']:.1f} s",
                  caption=f"seed {args.seed}, temperature {args.temperature:g}; unigram entropy "
                          f"of the mu-law classes {result['unigram_bits']:.3f} bits/sample")
    table.add_column("", no_wrap=True)
    for _, _, title, _ in ev.COLUMNS:
        table.add_column(title, justify="right")
    for label, cells in ev.table_rows({Path(args.model).name: result}):
        table.add_row(label, *cells)
    out.print(table)
    missing = {row: m for row, s in result["summary"].items() if (m := s["missing"])}
    if missing:
        out.print(f"metrics missing for some utterances (averaged over the rest): {missing}")
    if args.json:
        out.print(f"wrote {args.json}")
    err.print(f"[dim]{time.time() - start:.1f} s[/]")
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``fidelity`` subcommand (its handler is ``args.func(args, argv) -> int``)."""
    p = subparsers.add_parser("fidelity", help="vocode held-out speech through the compiled C and "
                              "score it (NLL, PESQ, STOI, LSD, MCD) beside the mu-law ceiling and "
                              "Griffin-Lim")
    p.add_argument("model", help="ONNX file (compiled to a temporary folder) or compiled project "
                   "folder")
    p.add_argument("--data", required=True, help="a .wav file, a folder of .wav files or a corpus "
                   "folder with manifest.json (16 kHz mono 16-bit)")
    p.add_argument("--split", default="test", help="corpus split (default test)")
    p.add_argument("--utterances", type=_number(int, "--utterances"),
                   default=ev.DEFAULT_UTTERANCES,
                   help=f"first N utterances (default {ev.DEFAULT_UTTERANCES}; 0 = all)")
    p.add_argument("--seconds", type=_number(float, "--seconds"), default=ev.DEFAULT_SECONDS,
                   help=f"first S seconds of each (default {ev.DEFAULT_SECONDS:g}; 0 = whole)")
    p.add_argument("--seed", type=_number(int, "--seed"), default=0,
                   help="sampling seed (utterance i uses seed + i; default 0)")
    p.add_argument("--temperature", type=_number(float, "--temperature"), default=1.0,
                   help="sampling temperature, 0 = greedy (default 1)")
    p.add_argument("--gl-iters", type=_number(int, "--gl-iters"), default=ev.DEFAULT_GL_ITERS,
                   help=f"Griffin-Lim iterations (default {ev.DEFAULT_GL_ITERS})")
    p.add_argument("--dtype", default="auto", help="precision of an ONNX model (default: "
                   "detected, fp32 or the QDQ model's integer type)")
    p.add_argument("--json", help="write the full result (per utterance and summary) here")
    p.set_defaults(func=handler)
    return p


__all__ = ["register", "handler", "WnccError"]

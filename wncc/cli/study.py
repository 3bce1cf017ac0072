"""``wncc study MODELS... --data HELD_OUT.wav``: the sparsity x precision sweep."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from wncc import options
from wncc.console import out, progress
from wncc.errors import WnccError


def handler(args: argparse.Namespace, argv: list[str]) -> int:
    from wncc import study
    from wncc.audio import wav_sources

    models = []
    for item in args.models:
        path = Path(item)
        models += sorted(path.glob("*.onnx")) if path.is_dir() else [path]
    missing = [m for m in models if not m.exists()]
    if missing:
        raise WnccError("model not found", path=str(missing[0]))
    wav = wav_sources(args.data, "test", "evaluation")[0][1]
    with progress("studying") as update:
        rows = study.run(models, args.dtype or ["fp32", "int8"], wav,
                         Path(args.calib) if args.calib else None, args.target, args.seconds,
                         progress=update, per_channel=not args.per_tensor)
    out.print(study.markdown(rows), markup=False, highlight=False)
    if args.json:
        Path(args.json).write_text(json.dumps([dataclasses.asdict(r) for r in rows], indent=2) + "\n")
    return 0 if all(r.exact for r in rows) else 1


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from wncc.arith.precision import DTYPES

    p = subparsers.add_parser("study", help="sparsity x precision sweep: compression ratio, "
                              "storage, teacher-forced NLL of the C on held-out speech, exactness")
    p.add_argument("models", nargs="+", metavar="MODEL",
                   help="ONNX files or folders of them (pruned exports)")
    options.dtype(p, choices=DTYPES, repeatable=True, note="; default fp32 and int8")
    options.data(p, "; the first utterance is scored", old="--wav")
    options.calib(p, " (default: --data)")
    options.target(p)
    options.seconds(p, 2.0, "seconds of --data scored")
    options.per_tensor(p)
    options.json_out(p, "the rows")
    p.set_defaults(func=handler)
    return p

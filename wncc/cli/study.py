"""``wncc study MODELS... --data HELD_OUT.wav``: the sparsity x precision sweep, judged by the
MLPerf 99 % rule against the dense model at fp32."""

from __future__ import annotations

import argparse
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
    reference = Path(args.reference) if args.reference else None
    missing = [m for m in [*models, reference] if m is not None and not m.exists()]
    if missing:
        raise WnccError("model not found", path=str(missing[0]))
    if args.plots or args.html:
        study.figure_class()  # no matplotlib: say so before the sweep, not after it
    wav = wav_sources(args.data, "test", "evaluation")[0][1]
    with progress("studying") as update:
        result = study.run(models, args.dtype or ["fp32", "int8"], wav,
                           Path(args.calib) if args.calib else None, args.target, args.seconds,
                           progress=update, per_channel=not args.per_tensor, reference=reference,
                           jobs=args.jobs, speech=bool(args.html), ray=args.ray)
    out.print(study.markdown(result.rows), markup=False, highlight=False, soft_wrap=True)
    out.print("\n".join(study.summary(result)), markup=False, highlight=False)
    if args.json:
        Path(args.json).write_text(json.dumps(study.to_json(result), indent=2) + "\n")
    if args.plots:
        for path in study.plots(result.rows, Path(args.plots)):
            out.print(f"wrote {path}", markup=False, highlight=False)
    if args.html:
        from wncc import study_report

        page = study_report.write(result, Path(args.html))
        out.print(f"wrote {page}", markup=False, highlight=False)
    return 0 if all(r.exact for r in [result.reference, *result.rows]) else 1


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from wncc.arith.precision import DTYPES

    p = subparsers.add_parser("study", help="sparsity x precision sweep: compression ratio, "
                              "storage, teacher-forced NLL of the C on held-out speech, quality "
                              "as a fraction of fp32 (MLPerf 99%% rule), exactness")
    p.add_argument("models", nargs="+", metavar="MODEL",
                   help="ONNX files or folders of them (pruned exports)")
    options.dtype(p, choices=DTYPES, repeatable=True, note="; default fp32 and int8")
    options.data(p, "; the first utterance is scored", old="--wav")
    options.calib(p, " (default: --data)")
    options.target(p)
    options.seconds(p, 2.0, "seconds of --data scored")
    options.per_tensor(p)
    p.add_argument("--reference", metavar="MODEL.onnx",
                   help="the dense model whose fp32 NLL is 100%% quality (default: the first "
                   "unpruned MODEL, studied at fp32 even where --dtype leaves fp32 out)")
    p.add_argument("--jobs", type=options.number(int, "--jobs"), default=1,
                   help="(model, dtype) variants studied in parallel processes (default 1)")
    p.add_argument("--ray", metavar="ADDRESS",
                   help="run the variants as tasks on this Ray cluster ('auto', ray://HOST:PORT; "
                   "'local': a Ray instance of this machine's cores); its nodes must read the "
                   "model and audio paths; needs the cluster extra")
    p.add_argument("--plots", metavar="DIR",
                   help="write study_quality.png (compression vs quality per precision) and "
                   "study_pareto.png (the Pareto frontier) here; needs matplotlib")
    p.add_argument("--html", metavar="DIR",
                   help="write index.html here, a static page to listen to: the table, the "
                   "plots, and the speech each variant's C generates from the scored excerpt "
                   "(seed 0) beside the recording, with spectrograms; needs matplotlib")
    options.json_out(p, "the reference, the rows and the headline")
    p.set_defaults(func=handler)
    return p

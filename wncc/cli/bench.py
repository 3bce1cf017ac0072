"""``wncc bench``: generation speed on this machine against ONNX Runtime and PyTorch in the same
run (ratios, one thread); with ``--model`` alone, one model's C on every native target against
ONNX Runtime's teacher-forced pass; with ``--target`` instruction counts on emulated cores."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from wncc import options
from wncc.cli.common import cmsis_nn, ends, load_mel, quantized_input
from wncc.console import out, progress

# host-speed settings: the defaults, and --quick's smoke run
DEFAULTS = {"samples": 20000, "naive_samples": 300, "repeats": 3, "variant_of": "base",
            "variant_repeats": 7}
QUICK = {"samples": 2000, "naive_samples": 50, "repeats": 2, "variant_of": "tiny",
         "variant_repeats": 3}


def _setting(args: argparse.Namespace, key: str) -> int | str:
    """An option's value, or (left out) its default or --quick value."""
    value = getattr(args, key)
    return value if value is not None else (QUICK if args.quick else DEFAULTS)[key]


def speed(args: argparse.Namespace) -> int:
    from wncc.bench import generate

    variant_of = str(_setting(args, "variant_of"))
    with progress("benchmarking") as update:
        report = generate.run(
            configs=args.configs, c_samples=_setting(args, "samples"),
            naive_samples=_setting(args, "naive_samples"), repeats=_setting(args, "repeats"),
            variant_of=None if variant_of.lower() == "none" else variant_of,
            variant_samples=args.variant_samples,
            variant_repeats=_setting(args, "variant_repeats"), seed=args.seed,
            temperature=args.temperature, out_json=args.json, workdir=args.workdir, log=update)
    out.print(generate.config_table(report))
    if report["dilation_variants"]:
        out.print(generate.variant_table(report["dilation_variants"]))
    if args.markdown:
        print(generate.markdown(report), flush=True)  # plain: rich would wrap the long lines
    if args.json:
        out.print(f"wrote {args.json}", markup=False, highlight=False)
    return 0


def native(args: argparse.Namespace) -> int:
    from wncc.bench.native import NATIVE, markdown, measure, runnable

    targets = runnable(tuple(args.native or NATIVE))
    with progress("timing") as update, quantized_input(args, update) as model:
        update(", ".join(t.name for t in targets))
        row = measure(model, args.dtype, targets, int(_setting(args, "samples")),
                      int(_setting(args, "repeats")), args.seed, args.temperature, args.sparse,
                      ends(args), args.batch)
    out.print(markdown([row]), markup=False, highlight=False)
    if args.json:
        Path(args.json).write_text(json.dumps(row.to_dict(), indent=2) + "\n")
    return 0


def instructions(args: argparse.Namespace) -> int:
    from wncc.bench.target import bench, markdown, profile_markdown

    mel = load_mel(args.mel) if args.mel else None
    cmsis = cmsis_nn(args)
    rows = []
    with progress("counting instructions") as update, quantized_input(args, update) as model:
        for name in args.target:
            update(name)
            rows.append(bench(model, name, args.dtype, args.frames, mel, args.sparse, cmsis,
                              ends(args), args.profile))
    out.print(markdown(rows), markup=False, highlight=False)
    if args.profile:
        out.print(profile_markdown(rows), markup=False, highlight=False, soft_wrap=True)
    if args.json:
        Path(args.json).write_text(json.dumps([dataclasses.asdict(r) for r in rows], indent=2) + "\n")
    return 0


def handler(args: argparse.Namespace, argv: list[str]) -> int:
    from wncc.errors import WnccError

    if args.target and not args.model:
        raise WnccError("bench --target counts the instructions of a model: pass --model")
    if args.target and args.native:
        raise WnccError("bench --native times a model on this machine, --target counts its "
                        "instructions on a core: pick one")
    if args.model and not args.target:
        return native(args)
    return instructions(args) if args.target else speed(args)


def _default(key: str, what: str) -> str:
    return f"{what} (default {DEFAULTS[key]}; --quick {QUICK[key]})"


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from wncc.arith.precision import DTYPES
    from wncc.quant.quantize import METHODS

    p = subparsers.add_parser(
        "bench",
        help="generation speed vs ONNX Runtime and PyTorch (same run, one thread), or with "
        "--target instruction counts on emulated cores",
        description="Without --target: autoregressive generation speed of the compiled C against "
        "naive ONNX Runtime and PyTorch re-computation, single thread, in the same run (the "
        "ratios are the figures to quote; needs torch). With --model M alone: M's C on every "
        "native target this CPU runs (host, x86, x86-vnni; outputs checked identical) against "
        "ONNX Runtime's teacher-forced full-sequence pass of M, per sample, in the same run. "
        "With --target T --model M: instructions per sample and per MAC on the target's "
        "emulated core, flash and RAM, estimated real-time factor.")
    host = p.add_argument_group("host speed vs peers (without --target)")
    host.add_argument("--configs", nargs="+", default=["tiny", "base"], metavar="CONFIG",
                      help="model configs of examples/wavenet.py (default tiny base)")
    host.add_argument("--samples", type=options.number(int, "--samples"),
                      help=_default("samples", "samples per C run"))
    host.add_argument("--naive-samples", type=options.number(int, "--naive-samples"),
                      help=_default("naive_samples", "samples per naive ONNX Runtime / PyTorch "
                                    "run (they are slow)"))
    host.add_argument("--repeats", type=options.number(int, "--repeats"),
                      help=_default("repeats", "timed runs per peer; the best is kept"))
    host.add_argument("--variant-of", help=_default("variant_of", "config the equal-MAC "
                                                    "dilation variants derive from; 'none' skips "
                                                    "them"))
    host.add_argument("--variant-samples", type=options.number(int, "--variant-samples"),
                      help="samples per variant run (default --samples)")
    host.add_argument("--variant-repeats", type=options.number(int, "--variant-repeats"),
                      help=_default("variant_repeats", "interleaved timed runs per dilation "
                                    "variant; the best is kept"))
    host.add_argument("--quick", action="store_true",
                      help="smoke run: the --quick values above for the options left out")
    host.add_argument("--workdir", type=Path,
                      help="keep the built models here (default: a temporary folder)")
    host.add_argument("--markdown", action="store_true", help="also print README-ready markdown")
    host.add_argument("--native", nargs="+", metavar="TARGET",
                      help="with --model and no --target: the native targets to time (default: "
                      "host x86 x86-vnni, those this CPU runs)")
    host.add_argument("--batch", type=options.number(int, "--batch"), default=1, metavar="B",
                      help="with --model and no --target: also time B streams generated together "
                      "(wn_generate_batch), per sample per stream, against one stream (default 1: "
                      "not timed)")
    options.sampling(p, sample_rate=False)
    counts = p.add_argument_group("instruction counts on targets (--target)")
    options.target(counts, repeatable=True, note=": count instructions of --model on it "
                   "instead of timing the host")
    options.model(counts, flag=True, required=False)
    options.dtype(counts, choices=DTYPES, note="; integer dtypes need a QDQ model or --calib")
    counts.add_argument("--frames", type=options.number(int, "--frames"), default=4,
                        help="mel frames generated in the counted region (default 4)")
    options.mel(counts, note=" (default: seeded noise)")
    options.sparse(counts)
    options.cmsis_nn(counts)
    counts.add_argument("--profile", action="store_true",
                        help="also count each function's instructions (qemu targets) and print "
                        "the work per sample by class: matrix-vector products, elementwise, "
                        "activations, sampling, model loop, C library")
    options.ends(p)
    options.quantization(p, METHODS)
    options.json_out(p, "the results (both modes)", old="--out")
    p.set_defaults(func=handler)
    return p

"""``wncc verify MODEL.onnx``: compile, build, and check the C against ONNX Runtime and the
golden model."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table
from rich.text import Text

from wncc import options
from wncc.cli.common import cmsis_nn, ends, quantized_input, user_data
from wncc.cli.compile import compile_options
from wncc.console import out, progress
from wncc.text import one_line


def handler(args: argparse.Namespace, argv: list[str]) -> int:
    from wncc.verify import verify

    mel, audio = user_data(args)
    cmsis = cmsis_nn(args)
    with progress("verifying") as update, quantized_input(args, update) as model:
        report = verify(model, project=args.project, target=args.target, dtype=args.dtype,
                        rounding=args.rounding, sparse=args.sparse, cmsis_nn=cmsis,
                        seconds=args.seconds, sample_rate=args.sample_rate,
                        golden_samples=args.samples, seed=args.seed,
                        temperature=args.temperature, mel=mel, audio=audio, progress=update,
                        logit_samples=args.logit_samples, timeout=args.timeout,
                        ends=ends(args))
    table = Table(title=Text(one_line(f"wncc verify {Path(args.model).name} ({args.dtype}, "
                                      f"{args.target})")))
    for col in ("check", "result", "measured", "required"):
        table.add_column(col)
    for c in report.checks:
        table.add_row(c.name, "[green]PASS[/]" if c.passed else "[red]FAIL[/]", c.value, c.limit)
    out.print(table)
    if report.info:
        i = report.info
        elf = i.get("elf") or {}
        out.print(f"emulated on {i['target']} ({i['emulator']}): {i['teacher_forced_samples']} "
                  f"teacher-forced + {i['generated_samples']} generated samples, "
                  f"{i['emulated_seconds']} s emulated, {i['wall_seconds']} s wall; wn_vocode "
                  f"flash {elf.get('flash_bytes', '?')} B, RAM {elf.get('ram_bytes', '?')} B",
                  markup=False, highlight=False)
    out.print("verify: PASS" if report.passed else "verify: FAIL")
    return 0 if report.passed else 1


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("verify", help="compile, build and check the C against ONNX Runtime "
                              "and the golden model",
                              description="Compile (to a temporary folder unless --project), "
                              "build on the host or the target's emulator and run the checks. "
                              "Exit 1 when a check fails.")
    options.model(p)
    p.add_argument("--project", help="keep the compiled project in this folder")
    options.seconds(p, 2.0, "audio length of the logits check in seconds")
    p.add_argument("--samples", type=options.number(int, "--samples"), default=None,
                   help="generated samples checked against golden (default 4000 on host, 1000 "
                   "on emulated targets)")
    p.add_argument("--logit-samples", type=options.number(int, "--logit-samples"), default=None,
                   help="emulated targets: teacher-forced samples (default 2000; host uses "
                   "--seconds)")
    p.add_argument("--timeout", type=options.number(float, "--timeout"), default=None,
                   help="emulated targets: seconds per emulator run (default 600)")
    inputs = p.add_mutually_exclusive_group()
    options.mel(inputs, note=" (default: seeded noise)")
    options.data(inputs, "; teacher-force the first utterance's own samples and log-mel "
                 "(repeated to --seconds)", required=False, old="--wav")
    options.sampling(p)
    compile_options(p)
    p.set_defaults(func=handler)
    return p

"""``wncc compile MODEL.onnx -o DIR``: the C project."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.table import Table
from rich.text import Text

from wncc import options
from wncc.cli.common import cmsis_nn, command_line, ends, quantized_input
from wncc.console import out, progress
from wncc.text import one_line


def handler(args: argparse.Namespace, argv: list[str]) -> int:
    from wncc.compiler import compile_model
    from wncc.passes import lowered

    cmsis = cmsis_nn(args)
    with progress("compiling") as update, quantized_input(args, update) as model:
        graph, project = compile_model(model, args.output, target=args.target,
                                       dtype=args.dtype, command=command_line(argv),
                                       rounding=args.rounding, sparse=args.sparse,
                                       cmsis_nn=cmsis, ends=ends(args))
        if args.build:
            from wncc.emulate import build
            update(f"building {project}")
            build(project)
    report = json.loads((project / "report.json").read_text())
    table = Table(title=Text(one_line(f"wncc compile {Path(args.model).name} -> {project}")))
    table.add_column("quantity")
    table.add_column("value", justify="right")
    st = lowered.of(graph).stats
    for k, v in [("target", args.target), ("dtype", args.dtype),
                 ("samples input", graph.input_kind), ("output distribution", graph.head.kind),
                 ("receptive field", st.receptive_field),
                 ("parameters", f"{st.parameters:,}"), ("MACs / sample", f"{st.macs_per_sample:,}"),
                 ("MACs / frame (hoisted)", f"{st.macs_per_frame:,}"),
                 ("weight bytes", f"{report['weights_bytes']:,}"),
                 ("compression vs dense fp32", f"{report['compression_ratio']}x"),
                 ("state bytes (est.)", f"{report['memory_bytes']['state_estimate']:,}")]:
        table.add_row(k, Text(one_line(str(v))))
    if "elf" in report:
        table.add_row("flash bytes (wn_vocode)", f"{report['elf']['flash_bytes']:,}")
        table.add_row("RAM bytes (+ worst-case stack)", f"{report['elf']['ram_bytes']:,} + "
                      f"{report['stack']['bytes']:,}")
    if "cmsis_nn" in report:
        table.add_row("layers on CMSIS-NN", f"{len(report['cmsis_nn']['layers'])} of "
                      f"{sum(1 for n in graph.nodes if n.op in ('conv', 'conv_ring', 'convt'))}")
    out.print(table)
    return 0


def compile_options(p: argparse.ArgumentParser) -> None:
    """target, dtype, code generation, the sample loop and quantization: compile's options,
    which verify shares."""
    from wncc.arith.precision import DTYPES
    from wncc.quant.quantize import METHODS

    options.target(p)
    options.dtype(p, choices=DTYPES, note="; integer dtypes need a QDQ model or --calib")
    options.code(p)
    options.ends(p)
    options.quantization(p, METHODS)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("compile", help="compile an ONNX vocoder to a C project",
                              description="Compile an ONNX WaveNet vocoder to a standalone C "
                              "project (replaced atomically; nothing is left behind on error).")
    options.model(p)
    options.output(p, "output folder (the C project)")
    p.add_argument("--build", action="store_true", help="also build it with the target's "
                   "toolchain and record flash, RAM and worst-case stack in report.json "
                   "(verify and bench --target do this too)")
    compile_options(p)
    p.set_defaults(func=handler)
    return p

"""wncc command line: compile, verify, inspect, vocode.

Exit status: 0 success, 1 a verification check failed, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
import tempfile
import wave
from pathlib import Path
from typing import Iterator

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from wncc import __version__
from wncc.errors import WnccError
from wncc.text import one_line
from wncc.quant.command import _layer_dtype
from wncc.fidelity.command import register as register_fidelity
from wncc.prune.command import register as register_prune
from wncc.quant.command import register as register_quantize

out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True)


@contextlib.contextmanager
def status(message: str) -> Iterator[callable]:
    """A spinner on stderr; yields a function that updates its text."""
    with err.status(message) as st:
        yield lambda text: st.update(f"{message}: {text}")


def _command_line(argv: list[str]) -> str:
    """The command line for frontmatter, without the output folder and --build (not part of the
    result)."""
    kept, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--build":
            continue
        if a in ("-o", "--output"):
            skip = True
            continue
        kept.append(Path(a).name if a.endswith(".onnx") else a)
    return "wncc " + " ".join(shlex.quote(a) for a in kept)


@contextlib.contextmanager
def quantized_input(args: argparse.Namespace, update) -> Iterator[str]:
    """The model to compile: the given one, or (with --calib and an integer dtype) a QDQ model
    quantized on the way into a temporary folder."""
    if not getattr(args, "calib", None) or args.dtype in ("fp32", "fp16", "bf16"):
        yield args.model
        return
    from wncc.quant.quantize import quantize

    with tempfile.TemporaryDirectory(prefix="wncc-quant-") as tmp:
        update(f"quantizing to {args.dtype}")
        out = Path(tmp) / Path(args.model).name
        quantize(args.model, args.dtype, args.calib, out, method=args.method,
                 layer_dtypes=dict(args.layer_dtype or []) or None,
                 per_channel=not args.per_tensor)
        yield str(out)


def _cmsis_nn(args: argparse.Namespace) -> str | None:
    """--cmsis-nn, checked before any work (a bad path is a one-line error, exit 2)."""
    if not getattr(args, "cmsis_nn", None):
        return None
    from wncc.cmsis_nn import checkout

    return checkout(args.cmsis_nn).path


def cmd_compile(args: argparse.Namespace, argv: list[str]) -> int:
    from wncc.compiler import compile_model
    from wncc.passes import stats

    cmsis_nn = _cmsis_nn(args)
    with status("compiling") as update, quantized_input(args, update) as model:
        graph, project = compile_model(model, args.output, target=args.target,
                                       dtype=args.dtype, command=_command_line(argv),
                                       rounding=args.rounding, sparse=args.sparse,
                                       cmsis_nn=cmsis_nn)
        if args.build:
            from wncc.emulate import build
            update(f"building {project}")
            build(project)
    import json
    report = json.loads((project / "report.json").read_text())
    table = Table(title=Text(one_line(f"wncc compile {Path(args.model).name} -> {project}")))
    table.add_column("quantity")
    table.add_column("value", justify="right")
    st = stats.compute(graph)
    for k, v in [("target", args.target), ("dtype", args.dtype), ("receptive field", st.receptive_field),
                 ("parameters", f"{st.parameters:,}"), ("MACs / sample", f"{st.macs_per_sample:,}"),
                 ("MACs / frame (hoisted)", f"{st.macs_per_frame:,}"),
                 ("weight bytes", f"{report['weights_bytes']:,}"),
                 ("compression vs dense fp32", f"{report['compression_ratio']}x"),
                 ("state bytes (est.)", f"{report['memory_bytes']['state_estimate']:,}")]:
        table.add_row(k, str(v))
    if "elf" in report:
        table.add_row("flash bytes (wn_vocode)", f"{report['elf']['flash_bytes']:,}")
        table.add_row("RAM bytes (+ worst-case stack)", f"{report['elf']['ram_bytes']:,} + "
                      f"{report['stack']['bytes']:,}")
    if "cmsis_nn" in report:
        table.add_row("layers on CMSIS-NN", f"{len(report['cmsis_nn']['layers'])} of "
                      f"{sum(1 for n in graph.nodes if n.op in ('conv', 'conv_ring', 'convt'))}")
    out.print(table)
    return 0


def cmd_verify(args: argparse.Namespace, argv: list[str]) -> int:
    from wncc.verify import verify

    mel = _load_mel(args.mel) if args.mel else None
    if args.wav:
        from wncc.fidelity.evaluate import read_wav
        audio = read_wav(Path(args.wav))
    else:
        audio = None
    cmsis_nn = _cmsis_nn(args)
    with status("verifying") as update, quantized_input(args, update) as model:
        report = verify(model, project=args.project, target=args.target, dtype=args.dtype,
                        rounding=args.rounding, sparse=args.sparse, cmsis_nn=cmsis_nn,
                        seconds=args.seconds,
                        sample_rate=args.sample_rate,
                        golden_samples=args.samples, seed=args.seed,
                        temperature=args.temperature, mel=mel, audio=audio, progress=update,
                        logit_samples=args.logit_samples, timeout=args.timeout)
    table = Table(title=Text(one_line(f"wncc verify {Path(args.model).name} ({args.dtype}, {args.target})")))
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


def cmd_inspect(args: argparse.Namespace, argv: list[str]) -> int:
    from wncc.compiler import prepare
    from wncc.passes import memory, rates, stats

    graph, tgt = prepare(args.model, target=args.target, dtype=None, sparse=args.sparse)
    st = stats.compute(graph)
    plan = memory.plan(graph)
    table = Table(
        title=Text(one_line(f"{Path(args.model).name} ({graph.dtype}, {tgt.name}): layers with weights")))
    for col in ("layer", "op", "rate", "kernel", "dilation", "params", "MACs", "nonzero", "storage"):
        table.add_column(col, justify="left" if col in ("layer", "op", "rate", "storage") else "right")
    reasons = []
    for layer in st.layers:
        node = graph.node(layer["name"])
        label = node.attrs.get("label", node.name)
        choice = node.attrs.get("storage")
        w = node.weights.get("w")
        nonzero = f"{100 * float((w != 0).mean()):.1f}%" if w is not None else ""
        table.add_row(Text(one_line(label)), layer["op"], layer["rate"], str(layer.get("kernel", "")),
                      str(layer.get("dilation", "")), f"{layer['params']:,}",
                      f"{layer['macs']:,}", nonzero, choice.fmt.name if choice else "")
        if choice:
            reasons.append(f"{one_line(label)}: {choice.reason}")
    out.print(table)
    if args.reasons:
        for line in reasons:
            out.print(line, markup=False, highlight=False)
    prog = rates.split(graph)
    summary = Table(title="summary")
    summary.add_column("quantity")
    summary.add_column("value", justify="right")
    for k, v in [("hop (samples per frame)", graph.hop), ("mel bins", graph.n_mels),
                 ("classes", graph.classes), ("receptive field (samples)", st.receptive_field),
                 ("parameters", f"{st.parameters:,}"), ("MACs / sample", f"{st.macs_per_sample:,}"),
                 ("MACs / frame (hoisted)", f"{st.macs_per_frame:,}"),
                 ("ops at frame rate", len([n for n in prog.frame if n.op != 'upsample'])),
                 ("ops at sample rate", len(prog.sample)),
                 ("ring buffers", len(plan.rings)),
                 *[(f"{name} ({ctype} elements)", n) for name, ctype, n in plan.regions()]]:
        summary.add_row(k, str(v))
    out.print(summary)
    return 0


def _load_mel(path: str) -> np.ndarray:
    p = Path(path)
    if not p.exists():
        raise WnccError("mel file not found", path=path)
    try:
        mel = np.load(p)
    except Exception as exc:
        raise WnccError(f"cannot read mel array: {exc}", path=path) from None
    if mel.ndim != 2:
        raise WnccError(f"mel must be a 2-D array [frames, n_mels], got shape {mel.shape}", path=path)
    return mel.astype(np.float32)


def cmd_vocode(args: argparse.Namespace, argv: list[str]) -> int:
    from wncc.compiler import compile_model
    from wncc.harness import CModel

    mel = _load_mel(args.mel)
    with status("vocoding") as update, tempfile.TemporaryDirectory(prefix="wncc-vocode-") as tmp:
        source = Path(args.model)
        if source.is_dir():
            if not (source / "wn_model.h").exists():
                raise WnccError("not a wncc project folder (no wn_model.h)", path=str(source))
            project = source
        else:
            update("compiling")
            _, project = compile_model(source, Path(tmp) / "project", command=_command_line(argv))
        update("building the C")
        model = CModel(project)
        if mel.shape[1] != model.n_mels:
            if mel.shape[0] != model.n_mels:
                raise WnccError(f"mel has shape {mel.shape}, the model needs [frames, {model.n_mels}]",
                                path=args.mel)
            mel = mel.T
        update(f"generating {mel.shape[0] * model.hop} samples")
        _, pcm = model.vocode(mel, seed=args.seed, temperature=args.temperature)
    write_wav(Path(args.output), pcm, args.sample_rate)
    out.print(f"wrote {args.output}: {pcm.size} samples, {pcm.size / args.sample_rate:.2f} s "
              f"at {args.sample_rate} Hz")
    return 0


def write_wav(path: Path, pcm: np.ndarray, sample_rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(np.asarray(pcm, "<i2").tobytes())


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="wncc", description="Compile WaveNet vocoders (ONNX) to "
                                 "standalone C, verified against the model.")
    ap.add_argument("--version", action="version", version=f"wncc {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        from wncc.compiler import DTYPES

        p.add_argument("--target", default="host", help="target name or TOML file (default host)")
        p.add_argument("--dtype", default="fp32", choices=DTYPES,
                       help="arithmetic (default fp32); integer dtypes need a QDQ model or --calib")
        p.add_argument("--rounding", default="double", choices=("double", "single"),
                       help="requantization rounding of 8-bit paths (default double, as TFLite)")
        p.add_argument("--calib", help="quantize a float model on the way, calibrated on this "
                       "audio (.wav, folder of .wav, or corpus folder)")
        p.add_argument("--method", default="minmax", choices=("minmax", "percentile", "entropy"),
                       help="calibration method with --calib")
        p.add_argument("--layer-dtype", action="append", type=_layer_dtype, metavar="GLOB=DTYPE",
                       help="per-layer precision with --calib, e.g. 'head*=int16x8' (repeatable)")
        p.add_argument("--per-tensor", action="store_true",
                       help="with --calib: one weight scale per tensor instead of per channel")
        p.add_argument("--sparse", action="append", metavar="FORMAT|GLOB=FORMAT",
                       help="weight storage: auto (default: the cost model decides per layer and "
                       "target), dense, csr, bitmask, bsr:RxC; GLOB=FORMAT for some layers "
                       "(repeatable)")
        p.add_argument("--cmsis-nn", metavar="PATH",
                       help="CMSIS-NN checkout: dense int8 convolutions call its kernels where "
                       "the arithmetic equals the golden model's (the Makefile compiles them "
                       "from PATH)")

    p = sub.add_parser("compile", help="compile an ONNX vocoder to a C project")
    p.add_argument("model", help="ONNX file")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--build", action="store_true", help="also build it with the target's "
                   "toolchain and record flash, RAM and worst-case stack in report.json "
                   "(verify and bench --target do this too)")
    common(p)
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("verify", help="compile, build and check the C against ONNX Runtime and "
                       "the golden model")
    p.add_argument("model", help="ONNX file")
    p.add_argument("--project", help="keep the compiled project in this folder")
    p.add_argument("--seconds", type=float, default=2.0, help="audio length for the logits check")
    p.add_argument("--samples", type=int, default=None, help="generated samples checked against "
                   "golden (default 4000 on host, 1000 on emulated targets)")
    p.add_argument("--logit-samples", type=int, default=None, help="emulated targets: "
                   "teacher-forced samples (default 2000; host uses --seconds)")
    p.add_argument("--timeout", type=float, default=None, help="emulated targets: seconds per "
                   "emulator run (default 600)")
    p.add_argument("--sample-rate", type=int, default=16000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--mel", help="mel frames .npy [frames, n_mels] (default: seeded noise)")
    p.add_argument("--wav", help="real input: teacher-force this 16 kHz mono wav's own samples "
                   "and log-mel (repeated to --seconds)")
    common(p)
    p.set_defaults(func=cmd_verify)

    register_quantize(sub)
    register_prune(sub)
    register_fidelity(sub)

    p = sub.add_parser("bench", help="generation speed vs ONNX Runtime and PyTorch (same run, "
                       "single thread; options of benchmarks/generate_speed.py), or with "
                       "--target T --model M --dtype D instruction counts on emulated cores",
                       add_help=False)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("study", help="sparsity x precision sweep: compression ratio, storage, "
                       "teacher-forced NLL of the C on held-out speech, exactness")
    p.add_argument("models", nargs="+", help="ONNX files or folders of them (pruned exports)")
    p.add_argument("--dtype", action="append", help="precisions (repeatable; default fp32, int8)")
    p.add_argument("--wav", required=True, help="held-out 16 kHz speech for the NLL")
    p.add_argument("--calib", help="calibration audio for integer precisions (default --wav)")
    p.add_argument("--target", default="host")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--per-tensor", action="store_true",
                   help="quantize integer precisions with one scale per weight tensor")
    p.add_argument("--json", help="write the rows here")
    p.set_defaults(func=cmd_study)

    p = sub.add_parser("inspect", help="layers, receptive field, parameters, MACs, rates, "
                       "storage choice per layer")
    p.add_argument("model", help="ONNX file")
    p.add_argument("--target", default="host", help="target whose cost model picks the storage")
    p.add_argument("--sparse", action="append", metavar="FORMAT|GLOB=FORMAT",
                   help="storage override, as for compile")
    p.add_argument("--reasons", action="store_true", help="print why each storage was chosen")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("vocode", help="mel frames -> wav through the compiled C")
    p.add_argument("model", help="ONNX file or compiled project folder")
    p.add_argument("--mel", required=True, help=".npy array [frames, n_mels]")
    p.add_argument("-o", "--output", required=True, help="output .wav")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=1.0, help="0 = greedy")
    p.add_argument("--sample-rate", type=int, default=16000)
    p.set_defaults(func=cmd_vocode)
    return ap


def bench_target_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wncc bench --target", description="instructions per "
                                "sample and per MAC on emulated cores (qemu plugin; callgrind on "
                                "x86), flash and RAM, estimated real-time factor at the target's "
                                "nominal clock")
    p.add_argument("--target", action="append", required=True, help="target (repeatable)")
    p.add_argument("--model", required=True, help="ONNX model (QDQ for integer dtypes)")
    p.add_argument("--dtype", default="fp32")
    p.add_argument("--frames", type=int, default=4, help="mel frames generated in the region")
    p.add_argument("--mel", help="mel frames .npy (default: seeded noise)")
    p.add_argument("--sparse", action="append", metavar="FORMAT|GLOB=FORMAT")
    p.add_argument("--cmsis-nn", metavar="PATH", help="CMSIS-NN checkout, as for compile")
    p.add_argument("--json", help="write the rows here")
    return p


def cmd_study(args: argparse.Namespace, argv: list[str]) -> int:
    import dataclasses
    import json

    from wncc import study

    models = []
    for item in args.models:
        path = Path(item)
        models += sorted(path.glob("*.onnx")) if path.is_dir() else [path]
    missing = [m for m in models if not m.exists()]
    if missing:
        raise WnccError("model not found", path=str(missing[0]))
    with status("studying") as update:
        rows = study.run(models, args.dtype or ["fp32", "int8"], Path(args.wav),
                         Path(args.calib) if args.calib else None, args.target, args.seconds,
                         progress=update, per_channel=not args.per_tensor)
    out.print(study.markdown(rows), markup=False, highlight=False)
    if args.json:
        Path(args.json).write_text(json.dumps([dataclasses.asdict(r) for r in rows], indent=2) + "\n")
    return 0 if all(r.exact for r in rows) else 1


def cmd_bench(args: argparse.Namespace, argv: list[str]) -> int:
    """Without --target: generation speed vs peers (benchmarks/generate_speed.py, its options);
    with --target: instruction counts on the targets."""
    import runpy

    rest = argv[argv.index("bench") + 1:]
    if any(a == "--target" or a.startswith("--target=") for a in rest):
        from wncc.bench.target import bench, markdown

        opts = bench_target_parser().parse_args(rest)
        mel = _load_mel(opts.mel) if opts.mel else None
        cmsis_nn = _cmsis_nn(opts)
        rows = []
        with status("counting instructions") as update:
            for name in opts.target:
                update(name)
                rows.append(bench(opts.model, name, opts.dtype, opts.frames, mel, opts.sparse,
                                  cmsis_nn))
        out.print(markdown(rows), markup=False, highlight=False)
        if opts.json:
            import dataclasses
            import json
            Path(opts.json).write_text(json.dumps([dataclasses.asdict(r) for r in rows], indent=2))
        return 0
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "generate_speed.py"
    if not script.exists():
        raise WnccError("benchmarks/generate_speed.py not found (run from a source checkout)")
    module = runpy.run_path(str(script))
    module["main"](rest)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args, extra = parser().parse_known_args(argv)
    if extra and args.command != "bench":
        parser().parse_args(argv)  # reports the unknown arguments, exit 2
    try:
        return args.func(args, argv)
    except WnccError as exc:
        err.print(f"wncc: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err.print("wncc: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""``wncc prune CHECKPOINT_OR_CONFIG --sparsity S [-o OUT.onnx]``: the CLI front door.

Writes OUT.onnx (examples/wavenet.py's export of the pruned model, ready for ``wncc quantize`` /
``wncc compile``) and the pruned checkpoint beside it (OUT.pt unless ``--checkpoint-out``), and
prints the achieved sparsity per layer. torch is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

METHODS = ("oneshot", "iterative")
SCOPES = ("global", "layer")


def handler(args: argparse.Namespace, argv: list[str]) -> int:
    from rich.console import Console
    from rich.table import Table

    from wncc.errors import WnccError
    from wncc.prune import core
    from wncc.prune.examples import load_model

    # cheap checks first: a request that cannot be met fails before any model is loaded
    core.check_sparsity(args.sparsity)
    pattern = core.parse_pattern(args.pattern)
    if args.method == "iterative" and not args.corpus:
        raise WnccError("iterative pruning fine-tunes on a corpus: pass --corpus DIR "
                        "(a folder written by examples/corpus.py)")
    if args.bias_correction and not args.corpus:
        raise WnccError("bias correction measures input means on a corpus: pass --corpus DIR")
    out = Path(args.output)
    if out.suffix != ".onnx":
        raise WnccError("output must end in .onnx", path=str(out))
    ckpt_out = Path(args.checkpoint_out) if args.checkpoint_out else out.with_suffix(".pt")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    err = Console(stderr=True)
    model, cfg, source = load_model(args.model, args.config, args.seed)
    core.check_pattern(core.targets(model, args.embedding), pattern)
    before = None
    if args.corpus and args.eval_seconds > 0:
        before = core.evaluate(model, args.corpus, args.eval_seconds)

    def log(rec: dict) -> None:
        if not args.quiet:
            err.print(json.dumps(rec))

    result = core.prune(model, args.sparsity, method=args.method, pattern=pattern,
                        scope=args.scope, norm=args.norm, include_embedding=args.embedding,
                        corpus=args.corpus, steps=args.steps, lr=args.lr, batch=args.batch,
                        frames=args.frames, seed=args.seed,
                        bias_correction=args.bias_correction, log=log)
    after = None
    if args.corpus and args.eval_seconds > 0:
        after = core.evaluate(model, args.corpus, args.eval_seconds)
    core.save_checkpoint(model, result, ckpt_out, source=source)
    core.export_onnx(model, out)
    in_onnx = core.onnx_zeros(out, [layer.name for layer in result.layers])
    onnx_zero_count = sum(z for z, _ in in_onnx.values())
    if onnx_zero_count < result.zeros:
        raise WnccError(f"the ONNX export holds {onnx_zero_count} zero weights, the pruned model "
                        f"{result.zeros} (exporter changed the weights)", path=str(out))

    report = {**result.to_dict(), "source": source, "onnx": str(out),
              "checkpoint": str(ckpt_out), "onnx_zeros": onnx_zero_count,
              "nll_bits_before": before, "nll_bits_after": after}
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=1) + "\n")

    table = Table(title=f"wncc prune {Path(str(args.model)).name} -> {out} ({result.method}, "
                        f"{result.pattern}, {result.scope}, {result.norm})")
    for col, just in (("weight", "left"), ("shape", "left"), ("[Cout, K*Cin]", "left"),
                      ("params", "right"), ("zeros", "right"), ("sparsity", "right")):
        table.add_column(col, justify=just)
    for layer in result.layers:
        table.add_row(layer.name, "x".join(map(str, layer.shape)),
                      "x".join(map(str, layer.matrix)), f"{layer.params:,}", f"{layer.zeros:,}",
                      f"{layer.sparsity:.3f}")
    table.add_row("total", "", "", f"{result.params:,}", f"{result.zeros:,}",
                  f"{result.sparsity:.4f}", style="bold")
    console = Console()
    console.print(table)
    lines = [f"requested {result.requested:g}, achieved {result.sparsity:.4f} "
             f"({result.zeros:,} of {result.params:,} weights; biases untouched); "
             f"{onnx_zero_count:,} zeros in the ONNX initializers",
             f"checkpoint {ckpt_out}"]
    if before is not None:
        lines.append(f"teacher-forced NLL ({args.eval_seconds:g} s of validation): "
                     f"{before:.4f} -> {after:.4f} bits/sample")
    for line in lines:
        console.print(line)
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``prune`` subcommand (its handler is ``args.func(args, argv) -> int``)."""
    p = subparsers.add_parser("prune", help="magnitude-prune a WaveNet (PyTorch checkpoint, "
                              "examples/wavenet.py ONNX export or config) and export it to ONNX")
    p.add_argument("model", metavar="CHECKPOINT_OR_CONFIG",
                   help="a .pt state_dict / train.py checkpoint, an .onnx written by "
                        "examples/wavenet.py, or a config name (random weights)")
    p.add_argument("--sparsity", type=float, required=True,
                   help="fraction of the conv weights to zero, in [0, 1)")
    p.add_argument("--method", default="oneshot", choices=METHODS,
                   help="oneshot, or iterative (cubic schedule with fine-tuning; needs --corpus)")
    p.add_argument("--pattern", default="unstructured",
                   help="unstructured or block:RxC over the [Cout, K*Cin] weight matrix "
                        "(e.g. block:4x4, block:1x4, block:16x1)")
    p.add_argument("--scope", default="global", choices=SCOPES,
                   help="one threshold over all weights, or one per layer")
    p.add_argument("--norm", default="l2", choices=("l2", "l1"), help="block score")
    p.add_argument("--embedding", action="store_true", help="prune the embedding table too")
    p.add_argument("--bias-correction", action="store_true", help="fold the mean contribution "
                   "of the zeroed weights into the biases (input means from --corpus)")
    p.add_argument("--corpus", help="corpus folder (examples/corpus.py) for fine-tuning and the "
                   "NLL before/after")
    p.add_argument("--steps", type=int, default=300, help="fine-tuning steps (iterative)")
    p.add_argument("--lr", type=float, default=5e-4, help="fine-tuning learning rate (Adam, "
                   "cosine decay to 10%%)")
    p.add_argument("--batch", type=int, default=16, help="crops per fine-tuning batch")
    p.add_argument("--frames", type=int, default=8, help="frames per crop")
    p.add_argument("--threads", type=int, default=2, help="torch threads (0: torch's default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--config", help="model config (default: stored in the checkpoint or "
                   "inferred from its shapes)")
    p.add_argument("--eval-seconds", type=float, default=10.0, help="seconds of validation audio "
                   "for the NLL before/after (with --corpus; 0: skip)")
    p.add_argument("--checkpoint-out", help="pruned checkpoint (default OUT.pt)")
    p.add_argument("--report", help="write the report (per-layer sparsity, schedule) as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no schedule log on stderr")
    p.add_argument("-o", "--output", required=True, help="output .onnx")
    p.set_defaults(func=handler)
    return p

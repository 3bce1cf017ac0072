"""``wncc prune CHECKPOINT_OR_CONFIG --sparsity S [-o OUT.onnx]``: the CLI front door.

Writes OUT.onnx (examples/wavenet.py's export of the pruned model, ready for ``wncc quantize`` /
``wncc compile``) and the pruned checkpoint beside it (OUT.pt unless ``--checkpoint-out``), and
prints the achieved sparsity per layer. torch is imported only when the command runs. Under
``torchrun --nproc-per-node N -m wncc.cli prune ...`` the fine-tuning is data-parallel (see
``wncc.prune.distributed``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from wncc import options
from wncc.text import one_line

METHODS = ("oneshot", "iterative")
SCOPES = ("global", "layer")


def handler(args: argparse.Namespace, argv: list[str]) -> int:
    from rich.table import Table
    from rich.text import Text

    from wncc.console import err, out as stdout, progress
    from wncc.errors import WnccError
    from wncc.prune import core, distributed
    from wncc.prune.examples import load_model

    # cheap checks first: a request that cannot be met fails before any model is loaded
    if (args.sparsity is None) == (args.allocation is None):
        raise WnccError("pass --sparsity S or --allocation FILE (wncc sensitivity --json), "
                        "one of them")
    sparsity = (_allocation(args.allocation) if args.allocation
                else core.check_sparsity(args.sparsity))
    pattern = core.parse_pattern(args.pattern)
    if args.method == "iterative" and not args.data:
        raise WnccError("iterative pruning fine-tunes on a corpus: pass --data DIR (formerly "
                        "--corpus; a folder written by examples/corpus.py)")
    if args.bias_correction and not args.data:
        raise WnccError("bias correction measures input means on a corpus: pass --data DIR")
    out = Path(args.output)
    if out.suffix != ".onnx":
        raise WnccError("output must end in .onnx", path=str(out))
    ckpt_out = Path(args.checkpoint_out) if args.checkpoint_out else out.with_suffix(".pt")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    rank, _ = distributed.world()  # under torchrun: every process fine-tunes, rank 0 writes

    def log(rec: dict) -> None:
        if not (args.quiet or rank):
            err.print(json.dumps(rec), markup=False, highlight=False)

    before = after = None
    with progress("pruning") as update:
        update("loading the model")
        model, cfg, source = load_model(args.model, args.config, args.seed)
        core.check_pattern(core.targets(model, args.embedding), pattern)
        if args.data and args.eval_seconds > 0:
            update("NLL before")
            before = core.evaluate(model, args.data, args.eval_seconds)
        update(f"{args.method} to "
               + (f"{args.sparsity:g}" if args.sparsity is not None else "the allocation"))
        result = core.prune(model, sparsity, method=args.method, pattern=pattern,
                            scope=args.scope, norm=args.norm, include_embedding=args.embedding,
                            corpus=args.data, steps=args.steps, lr=args.lr, batch=args.batch,
                            frames=args.frames, seed=args.seed,
                            bias_correction=args.bias_correction, distill=args.distill,
                            temperature=args.distill_temperature, val_every=args.val_every,
                            val_seconds=args.eval_seconds, patience=args.patience, qat=args.qat,
                            log=log)
        if args.data and args.eval_seconds > 0:
            update("NLL after")
            after = core.evaluate(model, args.data, args.eval_seconds)
        if rank:
            return 0
        update(f"exporting {out}")
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
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")

    table = Table(title=Text(one_line(f"wncc prune {Path(str(args.model)).name} -> {out} "
                                      f"({result.method}, {result.pattern}, {result.scope}, "
                                      f"{result.norm})")))
    for col, just in (("weight", "left"), ("shape", "left"), ("[Cout, K*Cin]", "left"),
                      ("params", "right"), ("zeros", "right"), ("sparsity", "right")):
        table.add_column(col, justify=just)
    for layer in result.layers:
        table.add_row(layer.name, "x".join(map(str, layer.shape)),
                      "x".join(map(str, layer.matrix)), f"{layer.params:,}", f"{layer.zeros:,}",
                      f"{layer.sparsity:.3f}")
    table.add_row("total", "", "", f"{result.params:,}", f"{result.zeros:,}",
                  f"{result.sparsity:.4f}", style="bold")
    stdout.print(table)
    lines = [f"requested {result.requested:g}, achieved {result.sparsity:.4f} "
             f"({result.zeros:,} of {result.params:,} weights; biases untouched); "
             f"{onnx_zero_count:,} zeros in the ONNX initializers",
             f"checkpoint {ckpt_out}"]
    if before is not None:
        lines.append(f"teacher-forced NLL ({args.eval_seconds:g} s of validation): "
                     f"{before:.4f} -> {after:.4f} bits/sample")
    for line in lines:
        stdout.print(line, markup=False, highlight=False)
    return 0


def _allocation(path: str) -> dict[str, float]:
    """The per-weight sparsities of a ``wncc sensitivity --target-sparsity S --json`` file."""
    from wncc.errors import WnccError

    try:
        data = json.loads(Path(path).read_text())
        layers = data["allocation"]["layers"]
        return {str(k): float(v) for k, v in layers.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WnccError(f"not an allocation (wncc sensitivity --target-sparsity S --json): "
                        f"{type(exc).__name__}", path=path) from None


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``prune`` subcommand (its handler is ``args.func(args, argv) -> int``)."""
    p = subparsers.add_parser("prune", help="magnitude-prune a WaveNet (PyTorch checkpoint, "
                              "examples/wavenet.py ONNX export or config) and export it to ONNX")
    p.add_argument("model", metavar="CHECKPOINT_OR_CONFIG",
                   help="a .pt state_dict / train.py checkpoint, an .onnx written by "
                        "examples/wavenet.py, or a config name (random weights)")
    p.add_argument("--sparsity", type=float,
                   help="fraction of the conv weights to zero, in [0, 1) (or --allocation)")
    p.add_argument("--allocation", metavar="FILE",
                   help="per-layer sparsities from 'wncc sensitivity --target-sparsity S --json "
                        "FILE': each layer pruned to its own (scope layer), instead of "
                        "--sparsity")
    p.add_argument("--method", default="oneshot", choices=METHODS,
                   help="oneshot, or iterative (cubic schedule with fine-tuning; needs --data)")
    p.add_argument("--pattern", default="unstructured",
                   help="unstructured or block:RxC over the [Cout, K*Cin] weight matrix "
                        "(e.g. block:4x4, block:1x4, block:16x1)")
    p.add_argument("--scope", default="global", choices=SCOPES,
                   help="one threshold over all weights, or one per layer")
    p.add_argument("--norm", default="l2", choices=("l2", "l1"), help="block score")
    p.add_argument("--embedding", action="store_true", help="prune the embedding table too")
    p.add_argument("--bias-correction", action="store_true", help="fold the mean contribution "
                   "of the zeroed weights into the biases (input means from --data)")
    options.data(p, "; prune needs a corpus folder: its train split fine-tunes, its validation "
                 "split gives the NLL before/after", required=False, old="--corpus")
    p.add_argument("--steps", type=int, default=300, help="fine-tuning steps (iterative)")
    p.add_argument("--lr", type=float, default=5e-4, help="fine-tuning learning rate (Adam, "
                   "cosine decay to 10%%)")
    p.add_argument("--distill", type=float, default=0.0, metavar="ALPHA",
                   help="knowledge distillation from the unpruned model (iterative): loss = "
                        "(1 - ALPHA) data cross-entropy + ALPHA T^2 KL(teacher || student)")
    p.add_argument("--distill-temperature", type=float, default=1.0, metavar="T",
                   help="distillation temperature T")
    p.add_argument("--val-every", type=int, default=0, metavar="N",
                   help="early stopping (iterative): once at the final sparsity, the validation "
                        "NLL every N steps (--eval-seconds of audio, 0: the whole split); the best "
                        "weights are kept")
    p.add_argument("--patience", type=int, default=3,
                   help="stop after this many validation NLLs without improvement")
    p.add_argument("--qat", choices=("int4", "int8"), help="quantization-aware fine-tuning "
                   "(iterative; with --sparsity 0 alone): the conv weights trained as that "
                   "precision stores them, exported on its grid for wncc quantize")
    p.add_argument("--batch", type=int, default=16, help="crops per fine-tuning batch")
    p.add_argument("--frames", type=int, default=8, help="frames per crop")
    p.add_argument("--threads", type=int, default=2, help="torch threads (0: torch's default)")
    options.seed(p, "a config name's weights and of the fine-tuning crops")
    p.add_argument("--config", help="model config (default: stored in the checkpoint or "
                   "inferred from its shapes)")
    p.add_argument("--eval-seconds", type=float, default=10.0, help="seconds of validation audio "
                   "for the NLL before/after (with --data; 0: skip)")
    p.add_argument("--checkpoint-out", help="pruned checkpoint (default OUT.pt)")
    options.json_out(p, "the report (per-layer sparsity, schedule)", old="--report")
    p.add_argument("-q", "--quiet", action="store_true", help="no schedule log on stderr")
    options.output(p, "output .onnx")
    p.set_defaults(func=handler)
    return p

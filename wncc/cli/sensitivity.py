"""``wncc sensitivity CHECKPOINT_OR_CONFIG --data CORPUS``: each layer's NLL cost of pruning and
of lower weight precision, and (``--target-sparsity S``) the per-layer sparsities for S that
``wncc prune --allocation`` uses."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from wncc import options
from wncc.text import one_line

SPARSITIES = [0.5, 0.7, 0.9]
PRECISIONS = ["int8", "int4"]


def handler(args: argparse.Namespace, argv: list[str]) -> int:
    from rich.table import Table
    from rich.text import Text

    from wncc.console import out, progress
    from wncc.prune import core
    from wncc.prune.examples import load_model
    from wncc.prune.sensitivity import allocate, measure

    if args.target_sparsity is not None:
        core.check_sparsity(args.target_sparsity)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    with progress("measuring sensitivity") as update:
        update("loading the model")
        model, _, source = load_model(args.model, args.config, args.seed)
        result = measure(model, args.data, args.sparsities, args.precisions, args.pattern,
                         args.eval_seconds, args.group, log=update)
        if args.target_sparsity is not None:
            result.allocation = allocate(result.groups, args.target_sparsity)
    table = Table(title=Text(one_line(
        f"wncc sensitivity {Path(str(args.model)).name}: NLL increase, bits/sample "
        f"(baseline {result.baseline_bits:.4f} on {args.eval_seconds:g} s of validation)")))
    table.add_column("group")
    table.add_column("params", justify="right")
    for key in result.groups[0].sparsity if result.groups else ():
        table.add_column(f"{float(key):.0%} {result.pattern}", justify="right")
    for p in args.precisions:
        table.add_column(p, justify="right")
    if result.allocation:
        table.add_column(f"sparsity for {result.allocation['target']:g}", justify="right")
    for g in result.groups:
        row = [Text(one_line(g.name)), f"{g.params:,}",
               *(f"{v:+.4f}" for v in g.sparsity.values()),
               *(f"{g.precision[p]:+.4f}" for p in args.precisions)]
        if result.allocation:
            row.append(f"{result.allocation['layers'].get(g.weights[0], 0.0):.3f}")
        table.add_row(*row)
    out.print(table)
    if result.allocation:
        out.print(f"allocation for {result.allocation['target']:g}: predicted NLL increase "
                  f"{result.allocation['predicted_bits']:+.4f} bits/sample (one-at-a-time costs "
                  "added); prune with --allocation", markup=False, highlight=False)
    if args.json:
        Path(args.json).write_text(json.dumps({**result.to_dict(), "source": source},
                                              indent=1) + "\n")
    return 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "sensitivity", help="each layer's NLL cost of pruning and of int8/int4 weights, and "
        "per-layer sparsities for a target (for wncc prune --allocation)")
    p.add_argument("model", metavar="CHECKPOINT_OR_CONFIG",
                   help="a .pt state_dict / train.py checkpoint, an .onnx written by "
                        "examples/wavenet.py, or a config name (random weights)")
    options.data(p, "; a corpus folder: its validation split is scored")
    p.add_argument("--sparsities", type=options.number(float, "--sparsities"), nargs="+",
                   default=SPARSITIES, metavar="S",
                   help=f"the grid each group is pruned to (default {SPARSITIES})")
    p.add_argument("--precisions", nargs="*", default=PRECISIONS, choices=PRECISIONS,
                   help="weight precisions each group is stored at (default int8 int4)")
    p.add_argument("--pattern", default="unstructured",
                   help="unstructured or block:RxC, as wncc prune")
    p.add_argument("--group", default="layer", choices=("layer", "weight"),
                   help="a residual layer's weights together (default), or each weight alone")
    p.add_argument("--target-sparsity", type=options.number(float, "--target-sparsity"),
                   metavar="S", help="also allocate per-layer sparsities reaching S overall")
    p.add_argument("--eval-seconds", type=options.number(float, "--eval-seconds"), default=4.0,
                   help="seconds of validation audio per measurement (default 4; 0: all)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    options.seed(p, "a config name's weights")
    p.add_argument("--config", help="model config (default: stored in the checkpoint or "
                   "inferred from its shapes)")
    options.json_out(p, "the measurements and the allocation")
    p.set_defaults(func=handler)
    return p

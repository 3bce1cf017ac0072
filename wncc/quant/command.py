"""``wncc quantize MODEL.onnx --dtype D --calib DATA [-o OUT.onnx]``: the CLI front door."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from wncc import options
from wncc.quant import calibration
from wncc.quant.quantize import DTYPES, METHODS, load_model, quantize, weights_bytes


def handler(args: argparse.Namespace, argv: list[str]) -> int:
    from rich.table import Table
    from rich.text import Text

    from wncc.console import out
    from wncc.text import one_line

    layer_dtypes = dict(args.layer_dtype or [])
    before = weights_bytes(load_model(args.model))
    written = quantize(args.model, args.dtype, args.calib, args.output,
                       method=args.calib_method, calib_crops=args.calib_crops,
                       crop_frames=args.crop_frames, split=args.split,
                       layer_dtypes=layer_dtypes or None, per_channel=not args.per_tensor)
    after_model = load_model(written)
    after = weights_bytes(after_model)
    ops = Counter(n.op_type for n in after_model.graph.node)
    table = Table(title=Text(one_line(f"wncc quantize {Path(args.model).name} -> {written}")))
    table.add_column("quantity")
    table.add_column("value", justify="right")
    rows = [("dtype", args.dtype)]
    if args.dtype.startswith("int"):
        rows += [("calibration", one_line(f"{args.calib_method}, {args.calib_crops} crops x "
                                          f"{args.crop_frames} frames from {args.calib}"))]
    rows += [("weights bytes before", f"{before:,}"), ("weights bytes after", f"{after:,}"),
             ("ratio", f"{after / before:.3f}" if before else "-"),
             ("QuantizeLinear / DequantizeLinear",
              f"{ops.get('QuantizeLinear', 0)} / {ops.get('DequantizeLinear', 0)}"),
             ("opset", str(next((o.version for o in after_model.opset_import
                                 if o.domain in ("", "ai.onnx")), "?")))]
    for k, v in rows:
        table.add_row(k, v)
    out.print(table)
    return 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``quantize`` subcommand (its handler is ``args.func(args, argv) -> int``)."""
    p = subparsers.add_parser("quantize", help="write a QDQ ONNX model at another precision "
                              "(fp16/bf16 weights, or ORT static quantization calibrated on audio)")
    options.model(p)
    options.dtype(p, choices=DTYPES, required=True)
    options.quantization(p, METHODS, on_the_way=False)
    p.add_argument("--calib-crops", type=options.number(int, "--calib-crops"),
                   default=calibration.DEFAULT_CROPS,
                   help=f"number of calibration crops (default {calibration.DEFAULT_CROPS})")
    p.add_argument("--crop-frames", type=options.number(int, "--crop-frames"),
                   default=calibration.DEFAULT_CROP_FRAMES,
                   help=f"frames per crop (default {calibration.DEFAULT_CROP_FRAMES})")
    p.add_argument("--split", default="train", help="corpus split used (default train)")
    options.output(p, "output .onnx")
    p.set_defaults(func=handler)
    return p


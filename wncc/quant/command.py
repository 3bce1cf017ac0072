"""``wncc quantize MODEL.onnx --dtype D --calib DATA [-o OUT.onnx]``: the CLI front door."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from wncc.quant import calibration
from wncc.quant.quantize import DTYPES, METHODS, load_model, quantize, weights_bytes


def _layer_dtype(text: str) -> tuple[str, str]:
    pattern, sep, dtype = text.rpartition("=")
    if not sep or not pattern:
        raise argparse.ArgumentTypeError(f"expected GLOB=DTYPE, got '{text}'")
    return pattern, dtype


def handler(args: argparse.Namespace, argv: list[str]) -> int:
    from rich.console import Console
    from rich.table import Table

    layer_dtypes = dict(args.layer_dtype or [])
    before = weights_bytes(load_model(args.model))
    out = quantize(args.model, args.dtype, args.calib, args.output, method=args.method,
                   calib_crops=args.calib_crops, crop_frames=args.crop_frames, split=args.split,
                   layer_dtypes=layer_dtypes or None, per_channel=not args.per_tensor)
    after_model = load_model(out)
    after = weights_bytes(after_model)
    ops = Counter(n.op_type for n in after_model.graph.node)
    table = Table(title=f"wncc quantize {Path(args.model).name} -> {out}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    rows = [("dtype", args.dtype)]
    if args.dtype.startswith("int"):
        rows += [("calibration", f"{args.method}, {args.calib_crops} crops x {args.crop_frames} "
                  f"frames from {args.calib}")]
    rows += [("weights bytes before", f"{before:,}"), ("weights bytes after", f"{after:,}"),
             ("ratio", f"{after / before:.3f}" if before else "-"),
             ("QuantizeLinear / DequantizeLinear",
              f"{ops.get('QuantizeLinear', 0)} / {ops.get('DequantizeLinear', 0)}"),
             ("opset", str(next((o.version for o in after_model.opset_import
                                 if o.domain in ("", "ai.onnx")), "?")))]
    for k, v in rows:
        table.add_row(k, v)
    Console().print(table)
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``quantize`` subcommand (its handler is ``args.func(args, argv) -> int``)."""
    p = subparsers.add_parser("quantize", help="write a QDQ ONNX model at another precision "
                              "(fp16/bf16 weights, or ORT static quantization calibrated on audio)")
    p.add_argument("model", help="ONNX file")
    p.add_argument("--dtype", required=True, choices=DTYPES, help="target precision")
    p.add_argument("--calib", help="calibration audio: a .wav, a folder of .wav files or a corpus "
                   "folder with manifest.json (required for int dtypes)")
    p.add_argument("--method", default="minmax", choices=METHODS, help="calibration method")
    p.add_argument("--calib-crops", type=int, default=calibration.DEFAULT_CROPS,
                   help=f"number of calibration crops (default {calibration.DEFAULT_CROPS})")
    p.add_argument("--crop-frames", type=int, default=calibration.DEFAULT_CROP_FRAMES,
                   help=f"frames per crop (default {calibration.DEFAULT_CROP_FRAMES})")
    p.add_argument("--split", default="train", help="corpus split used (default train)")
    p.add_argument("--layer-dtype", action="append", type=_layer_dtype, metavar="GLOB=DTYPE",
                   help="per-layer precision, e.g. 'head*=int16x8' (repeatable)")
    p.add_argument("--per-tensor", action="store_true",
                   help="one scale per weight tensor instead of one per output channel")
    p.add_argument("-o", "--output", required=True, help="output .onnx")
    p.set_defaults(func=handler)
    return p


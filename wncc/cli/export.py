"""``wncc export-step MODEL.onnx -o step.onnx``: the streaming one-step ONNX graph."""

from __future__ import annotations

import argparse
from pathlib import Path

from wncc import options
from wncc.cli.common import ends
from wncc.console import err, out

CHECK_FRAMES = 2  # output frames the written graph is checked over, against the model itself


def handler(args: argparse.Namespace, argv: list[str]) -> int:
    from wncc import onnxfile, stepgraph
    from wncc.pipeline import load
    from wncc.verify import RELATIVE_TOLERANCE, inputs, onnxruntime_logits

    graph = load(args.model, ends=ends(args))
    model, info = stepgraph.build(graph)
    x, mel = inputs(graph, CHECK_FRAMES, args.seed, None)
    got = stepgraph.teacher_forced(stepgraph.OrtStep(model, info), graph, x, mel)
    want = onnxruntime_logits(Path(args.model), x, mel, graph=graph)
    error = float(abs(got - want).max())
    limit = RELATIVE_TOLERANCE["fp32"] * float(abs(want).max())
    if not error <= limit:
        err.print(f"wncc: the one-step graph's logits differ from {Path(args.model).name}'s by "
                  f"{error:.3g} (limit {limit:.3g}) over {x.size} samples: not written",
                  markup=False, highlight=False, soft_wrap=True)
        return 1
    onnxfile.save(model, Path(args.output))
    names = ["x", *(c["input"] for c in info.cond), *(s["input"] for s in info.states)]
    out.print(f"wrote {args.output}: inputs {', '.join(names)}; outputs logits and "
              f"{len(info.states)} next states; checked against ONNX Runtime on the model over "
              f"{x.size} samples (max abs err {error:.3g})", markup=False, highlight=False,
              soft_wrap=True)
    return 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "export-step", help="the streaming one-step ONNX graph of a float model (one sample per "
        "call: sample input, conditioning rows and layer states in; logits and states out)")
    options.model(p)
    options.output(p, "the one-step ONNX file to write")
    options.seed(p, "the check's random inputs")
    options.ends(p)
    p.set_defaults(func=handler)
    return p

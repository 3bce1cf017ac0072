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
    from wncc.verify import inputs

    graph = load(args.model, ends=ends(args))
    model, info = stepgraph.build(graph)
    x, mel = inputs(graph, CHECK_FRAMES, args.seed, None)
    check = stepgraph.check(Path(args.model), graph, stepgraph.OrtStep(model, info), x, mel)
    if not check.passed:
        err.print(f"wncc: the one-step graph's logits differ from {Path(args.model).name}'s: "
                  f"{check.value}, limit {check.limit}: not written", markup=False,
                  highlight=False, soft_wrap=True)
        return 1
    onnxfile.save(model, Path(args.output))
    names = ["x", *(c["input"] for c in info.cond), *(s["input"] for s in info.states)]
    out.print(f"wrote {args.output}: inputs {', '.join(names)}; outputs logits and "
              f"{len(info.states)} next states; checked against ONNX Runtime on the model: "
              f"{check.value}", markup=False, highlight=False, soft_wrap=True)
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

"""``wncc inspect MODEL.onnx``: layers, rates, parameters, MACs, storage, memory plan."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table
from rich.text import Text

from wncc import options
from wncc.cli.common import ends
from wncc.console import out
from wncc.text import one_line


def handler(args: argparse.Namespace, argv: list[str]) -> int:
    from wncc.pipeline import prepare
    from wncc.passes import lowered

    graph, tgt = prepare(args.model, target=args.target, dtype=None, sparse=args.sparse,
                         ends=ends(args))
    low = lowered.of(graph)
    st, plan = low.stats, low.plan
    table = Table(title=Text(one_line(f"{Path(args.model).name} ({graph.dtype}, {tgt.name}): "
                                      "layers with weights")))
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
    prog = low.programs
    summary = Table(title="summary")
    summary.add_column("quantity")
    summary.add_column("value", justify="right")
    for k, v in [("hop (samples per frame)", graph.hop), ("mel bins", graph.n_mels),
                 ("samples input", describe_input(graph)),
                 ("output distribution", describe_head(graph)),
                 ("receptive field (samples)", st.receptive_field),
                 ("parameters", f"{st.parameters:,}"), ("MACs / sample", f"{st.macs_per_sample:,}"),
                 ("MACs / frame (hoisted)", f"{st.macs_per_frame:,}"),
                 ("ops at frame rate", len([n for n in prog.frame if n.op != 'upsample'])),
                 ("ops at sample rate", len(prog.sample)),
                 ("lookahead (mel frames)", graph.time.lookahead),
                 ("history (mel frames)", graph.time.history),
                 ("output frames", _frames(graph.time.frames_delta)),
                 ("ring buffers", len(plan.rings)),
                 *[(f"{name} ({ctype} elements)", n) for name, ctype, n in plan.regions()]]:
        summary.add_row(k, str(v))
    out.print(summary)
    out.print(conditioning_table(graph))
    if args.nodes:
        out.print(nodes_table(graph))
    return 0


def describe_input(graph) -> str:
    """The samples input: its ONNX name and what the sample loop feeds it."""
    name = graph.onnx_inputs.get("samples", "")
    if graph.input_kind == "scalar":
        return f"{name}: scalar (the previous sample's value, float [1, 1, T])"
    what = "one-hot of the class" if graph.input_kind == "onehot" else "class index"
    return f"{name}: {graph.input_kind} ({what}, {graph.input_classes} classes)"


def describe_head(graph) -> str:
    head, n = graph.head, graph.classes
    text = {"categorical": f"categorical, {n} classes, {head.companding} companding",
            "mol": f"mixture of {n // 3} logistics, log scale min {head.log_scale_min:g}",
            "gaussian": f"Gaussian, log scale min {head.log_scale_min:g}"}[head.kind]
    text += f", {head.sampler} sampler" if head.kind != "gaussian" else ""
    return text + (f", de-emphasis {head.deemphasis:g}" if head.deemphasis else "")


def _frames(delta: int) -> str:
    return "F (mel frames)" if delta == 0 else f"F{delta:+d} (F mel frames)"


def conditioning_table(graph) -> Table:
    """The time-axis analysis: each conditioning tensor's rate, length and window."""
    time = graph.time
    table = Table(title="conditioning network (frame program): time axis")
    for col in ("tensor", "made by", "steps / frame", "length", "window (rows of frame g)"):
        table.add_column(col)
    made_by = {n.outputs[0]: n for n in graph.nodes}
    for name in time.rows:
        node = made_by.get(name)
        lo, hi = time.windows.get(name, (0, time.rows[name]))
        table.add_row(Text(one_line(name)), node.op if node else "input",
                      str(time.rows[name]), time.lengths[name].text(),
                      f"[{lo}, {hi})" if name in time.windows else "unused")
    return table


def nodes_table(graph) -> Table:
    """Which ONNX node became which IR op."""
    table = Table(title="ONNX nodes -> IR ops")
    for col in ("ONNX node", "IR op", "rate", "output"):
        table.add_column(col)
    for node in graph.nodes:
        t = graph.tensors[node.outputs[0]]
        table.add_row(Text(one_line(node.name)), node.op, t.rate.name.lower(),
                      Text(one_line(node.outputs[0])))
    return table


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("inspect", help="layers, receptive field, parameters, MACs, rates, "
                              "storage choice per layer")
    options.model(p)
    options.target(p, note=": its cost model picks the storage")
    options.sparse(p)
    options.ends(p)
    p.add_argument("--reasons", action="store_true", help="print why each storage was chosen")
    p.add_argument("--nodes", action="store_true",
                   help="list which ONNX node became which IR op")
    p.set_defaults(func=handler)
    return p

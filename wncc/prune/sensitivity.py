"""Per-layer sensitivity: how much each layer's pruning and weight precision cost in validation
NLL, and the per-layer sparsities that a target overall sparsity should use.

For each group of weights (one weight, or every weight of a residual layer), one at a time with
the rest of the model untouched: the group magnitude-pruned to each sparsity of the grid (its own
threshold, the pattern's blocks), and its weights stored at each precision (``wncc quantize``'s
per-channel symmetric grid, wncc.prune.qat), each measured as the teacher-forced NLL on the
same validation audio, minus the unchanged model's. One-at-a-time costs ignore interactions;
they rank layers, which is what the allocation needs.

The allocation: every group starts dense; the next grid step with the least NLL per pruned
weight is taken until the overall target is reached, the last step taken only as far as needed
(costs made non-decreasing along each group's grid first). ``wncc prune --allocation`` prunes to
it (``prune(model, allocation)``: a dict of per-weight sparsities).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Callable

import torch
from torch import nn

from wncc.errors import WnccError
from wncc.prune import core
from wncc.prune.qat import QMAX, FakeQuant

GROUPINGS = ("layer", "weight")
LAYER = re.compile(r"^(layers\.\d+)\.")


@dataclasses.dataclass
class Group:
    name: str
    weights: list[str]
    params: int
    sparsity: dict[str, float]  # grid fraction (as text) -> NLL increase, bits/sample
    precision: dict[str, float]  # "int8" / "int4" -> NLL increase


@dataclasses.dataclass
class Sensitivity:
    baseline_bits: float
    seconds: float
    pattern: str
    grouping: str
    groups: list[Group]
    allocation: dict | None = None  # {"target", "layers": weight -> fraction, "predicted_bits"}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def groups_of(tgts: list[core.Target], grouping: str) -> dict[str, list[core.Target]]:
    """Weights by group, in model order: a residual layer's weights together (``layers.N``), the
    others one by one; or every weight alone."""
    out: dict[str, list[core.Target]] = {}
    for t in tgts:
        m = LAYER.match(t.name)
        key = m.group(1) if grouping == "layer" and m else t.name
        out.setdefault(key, []).append(t)
    return out


@torch.no_grad()
def measure(model: nn.Module, corpus: str, sparsities: list[float], precisions: list[str],
            pattern: str = "unstructured", seconds: float = 4.0, grouping: str = "layer",
            log: Callable[[str], None] | None = None) -> Sensitivity:
    """Each group's NLL increase at each sparsity and precision (the model is left unchanged)."""
    if grouping not in GROUPINGS:
        raise WnccError(f"unknown grouping '{grouping}' (use {' or '.join(GROUPINGS)})")
    for p in precisions:
        if p not in QMAX:
            raise WnccError(f"unknown precision '{p}' (use {' or '.join(QMAX)})")
    grid = sorted({core.check_sparsity(s) for s in sparsities})
    pat = core.parse_pattern(pattern)
    tgts = core.targets(model)
    core.check_pattern(tgts, pat)
    model.eval()
    base = core.evaluate(model, corpus, seconds)
    out = []
    for name, members in groups_of(tgts, grouping).items():
        saved = [t.param.detach().clone() for t in members]

        def cost() -> float:
            bits = core.evaluate(model, corpus, seconds)
            for t, w in zip(members, saved):
                t.param.copy_(w)
            return round(bits - base, 6)

        by_sparsity = {}
        for s in grid:
            core.apply_masks(members, core.compute_masks(members, s, pat, "layer"))
            by_sparsity[f"{s:g}"] = cost()
        by_precision = {}
        for p in precisions:
            for t in members:
                t.param.copy_(FakeQuant(QMAX[p], 1 if t.kind == "convT" else 0)(t.param))
            by_precision[p] = cost()
        out.append(Group(name, [t.name for t in members], sum(t.param.numel() for t in members),
                         by_sparsity, by_precision))
        if log:
            log(f"{name}: " + ", ".join(f"{k} {v:+.4f}" for k, v in
                                        [*by_sparsity.items(), *by_precision.items()]))
    return Sensitivity(round(base, 6), seconds, str(pat), grouping, out)


def allocate(groups: list[Group], target: float) -> dict:
    """Per-weight sparsities reaching ``target`` overall at the least summed NLL increase
    (greedy over the measured grid, see the module docstring)."""
    target = core.check_sparsity(target)
    total = sum(g.params for g in groups)
    steps = {}
    for g in groups:
        levels, worst = [(0.0, 0.0)], 0.0
        for key in sorted(g.sparsity, key=float):
            worst = max(worst, g.sparsity[key])
            levels.append((float(key), worst))
        steps[g.name] = levels
    at = {g.name: 0 for g in groups}
    share = {g.name: 0.0 for g in groups}
    predicted = 0.0
    params = {g.name: g.params for g in groups}
    while sum(share[n] * params[n] for n in share) < target * total - 1e-9:
        options = [((steps[n][at[n] + 1][1] - steps[n][at[n]][1])
                    / ((steps[n][at[n] + 1][0] - steps[n][at[n]][0]) * params[n]), n)
                   for n in at if at[n] + 1 < len(steps[n])]
        if not options:
            top = max(float(k) for g in groups for k in g.sparsity)
            raise WnccError(f"target sparsity {target:g} is beyond the measured grid (at most "
                            f"{top:g} in every layer)")
        _, n = min(options)
        (s0, c0), (s1, c1) = steps[n][at[n]], steps[n][at[n] + 1]
        need = (target * total - sum(share[m] * params[m] for m in share)) / params[n]
        if s0 + need < s1:  # the last step, partly: costs interpolated
            share[n] = s0 + need
            predicted += (c1 - c0) * need / (s1 - s0)
            break
        share[n], at[n] = s1, at[n] + 1
        predicted += c1 - c0
    layers = {w: share[g.name] for g in groups for w in g.weights if share[g.name] > 0}
    return {"target": target, "layers": layers, "predicted_bits": round(predicted, 6)}

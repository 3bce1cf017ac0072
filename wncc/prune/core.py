"""Magnitude pruning of the WaveNet's weights: one-shot or iterative (Zhu & Gupta), global or
per-layer thresholds, unstructured or in blocks whose shapes match the kernels.

What is pruned: the weights of every Conv1d and ConvTranspose1d (the dilated convs, conditioning,
residual, skip and head projections, the transposed-conv upsampler); never a bias. The embedding
table is optional (``include_embedding``; off by default).

Blocks. A weight is viewed as the matrix the kernels multiply, ``[Cout, K*Cin]`` tap-major
(column ``k*Cin + cin``, the order of the dense kernels' weights and of the ring taps the sparse
kernels gather): Conv1d ``[Cout, Cin, K]`` as ``[Cout, K, Cin]``; ConvTranspose1d ``[Cin, Cout,
K]`` as ``[Cout, Cin*K]``; the embedding ``[classes, C]`` as ``[C, classes]`` (a 1x1
conv on a one-hot input). A block ``RxC`` covers R consecutive rows (output channels) and C
consecutive columns, aligned at multiples of R and C; it must tile every pruned matrix exactly.
A block's score is its L2 (default) or L1 norm; blocks are pruned whole. ``unstructured`` is
``1x1``.

Thresholds. ``scope="global"``: one ranking of all blocks of all pruned weights (all blocks have
the same size, so the count pruned is round(s * total weights / block size)); ``scope="layer"``:
each weight matrix loses round(s * its blocks) blocks. The lowest scores go first (ties in layer
order, then row-major block order), so the achieved sparsity equals the request up to one block
(global) or one block per layer. Blocks pruned earlier score -1: masks only grow.

Iterative (Zhu & Gupta 2017, "To prune, or not to prune"): over ``steps`` fine-tuning steps, the
target at step t is s_t = s_f + (s_i - s_f)(1 - (t - t0)/(n dt))^3 for t0 <= t <= t0 + n dt
(s_i = 0, t0 = 0); the n pruning events (default 10) are spread over the first ``ramp`` (75%) of
the steps, the rest fine-tunes at s_f. Fine-tuning is examples/train.py's teacher-forced step
(random crops, cross-entropy on mu-law classes with masked left context, Adam, gradient clipping
at 1.0, cosine lr decay to 10%); after every optimizer step the masks are re-applied (and the
gradients of pruned weights are zeroed before it, so Adam's moments for them stay zero).

Distillation (Hinton et al. 2015, ``distill`` = alpha > 0): the unpruned model, frozen, is the
teacher; the loss is (1 - alpha) CE(student, data) + alpha T^2 KL(teacher_T || student_T) over the
same unmasked positions, where ``_T`` is the softmax of the logits divided by the temperature T.
Early stopping (``val_every`` > 0): once the schedule has reached s_f, the validation NLL is
measured every ``val_every`` steps (``val_seconds`` of audio); fine-tuning stops after
``patience`` measurements without improvement and the model returns to its best measured weights.

Under ``torchrun`` the fine-tuning is data-parallel (``wncc.prune.distributed``): the same
result as one process with the same global ``batch``, which must split evenly over the processes.

The result has the zeros baked into the weights (no masks or reparametrization left), so
``state_dict()`` and ``examples/wavenet.py``'s export carry them.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn
from torch.nn import functional as F

from wncc.errors import WnccError
from wncc.prune import distributed
from wncc.prune import qat as qat_weights

METHODS = ("oneshot", "iterative")
SCOPES = ("global", "layer")
NORMS = ("l2", "l1")


# ----------------------------------------------------------------------------- patterns

@dataclass(frozen=True)
class Pattern:
    """Block shape over the ``[Cout, K*Cin]`` matrix; 1x1 is unstructured."""

    rows: int = 1
    cols: int = 1

    @property
    def unstructured(self) -> bool:
        return self.rows == 1 and self.cols == 1

    @property
    def size(self) -> int:
        return self.rows * self.cols

    def __str__(self) -> str:
        return "unstructured" if self.unstructured else f"block:{self.rows}x{self.cols}"


def parse_pattern(text: str | Pattern) -> Pattern:
    """``unstructured`` or ``block:RxC`` (R, C >= 1)."""
    if isinstance(text, Pattern):
        return text
    t = str(text).strip().lower()
    if t == "unstructured":
        return Pattern()
    m = re.fullmatch(r"block:(\d+)x(\d+)", t)
    if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise WnccError(f"unknown pattern '{text}': use 'unstructured' or 'block:RxC' with R, C "
                        ">= 1 (e.g. block:4x4, block:1x4, block:16x1)")
    return Pattern(int(m.group(1)), int(m.group(2)))


def check_sparsity(sparsity: float) -> float:
    s = float(sparsity)
    if not (0.0 <= s < 1.0) or math.isnan(s):
        raise WnccError(f"sparsity must be in [0, 1), got {sparsity}")
    return s


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise WnccError(f"unknown {what} '{value}' (use {' or '.join(allowed)})")
    return value


# ----------------------------------------------------------------------------- targets

@dataclass
class Target:
    """One pruned weight and how it is viewed as a ``[rows, cols]`` matrix."""

    name: str
    param: nn.Parameter
    kind: str  # "conv", "convT" or "embed"

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.param.shape)

    @property
    def matrix_shape(self) -> tuple[int, int]:
        s = self.shape
        if self.kind == "conv":
            return s[0], int(math.prod(s[1:]))
        if self.kind == "convT":
            return s[1], s[0] * int(math.prod(s[2:]))
        return s[1], s[0]

    def to_matrix(self, w: torch.Tensor) -> torch.Tensor:
        if self.kind == "conv":
            return w.transpose(1, 2).reshape(w.shape[0], -1)
        if self.kind == "convT":
            return w.transpose(0, 1).reshape(w.shape[1], -1)
        return w.T

    def from_matrix(self, m: torch.Tensor) -> torch.Tensor:
        s = self.shape
        if self.kind == "conv":
            return m.reshape(s[0], s[2], s[1]).transpose(1, 2).contiguous()
        if self.kind == "convT":
            return m.reshape(s[1], s[0], *s[2:]).transpose(0, 1).contiguous()
        return m.T.contiguous()


def targets(model: nn.Module, include_embedding: bool = False) -> list[Target]:
    """The prunable weights in ``named_modules`` order."""
    out = []
    for name, mod in model.named_modules():
        prefix = f"{name}.weight" if name else "weight"
        if isinstance(mod, nn.ConvTranspose1d):
            if mod.groups != 1:
                raise WnccError(f"grouped ConvTranspose1d '{name}' is not supported")
            out.append(Target(prefix, mod.weight, "convT"))
        elif isinstance(mod, nn.Conv1d):
            out.append(Target(prefix, mod.weight, "conv"))
        elif isinstance(mod, nn.Embedding) and include_embedding:
            out.append(Target(prefix, mod.weight, "embed"))
    return out


def check_pattern(tgts: list[Target], pattern: Pattern) -> None:
    """Every matrix must be tiled exactly by the blocks."""
    for t in tgts:
        r, c = t.matrix_shape
        if r % pattern.rows or c % pattern.cols:
            raise WnccError(f"block {pattern.rows}x{pattern.cols} does not divide layer '{t.name}': "
                            f"weight {list(t.shape)} viewed as [{r}, {c}] ([Cout, K*Cin])")


def _blocks(m: torch.Tensor, p: Pattern) -> torch.Tensor:
    """[R*nr, C*nc] -> [nr, nc, R*C]."""
    r, c = m.shape
    return (m.reshape(r // p.rows, p.rows, c // p.cols, p.cols)
            .permute(0, 2, 1, 3).reshape(r // p.rows, c // p.cols, p.size))


def _expand(b: torch.Tensor, p: Pattern) -> torch.Tensor:
    return b.repeat_interleave(p.rows, 0).repeat_interleave(p.cols, 1)


def block_scores(m: torch.Tensor, pattern: Pattern, norm: str = "l2") -> torch.Tensor:
    """L2 or L1 norm of every block of matrix m: [rows/R, cols/C] float64."""
    b = _blocks(m.detach().double(), pattern)
    return b.abs().sum(-1) if norm == "l1" else b.pow(2).sum(-1).sqrt()


def _count(s: float, n: int) -> int:
    return min(n, int(math.floor(s * n + 0.5)))


@torch.no_grad()
def compute_masks(tgts: list[Target], sparsity: float | dict[str, float], pattern: Pattern,
                  scope: str = "global", norm: str = "l2",
                  previous: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """Keep-masks (bool, parameter shape) pruning the lowest-scoring blocks to ``sparsity``: one
    fraction (over all weights, or in each layer), or each layer's own (weight name -> fraction,
    scope "layer"; a layer left out keeps every weight)."""
    scores = []
    for t in tgts:
        sc = block_scores(t.to_matrix(t.param), pattern, norm)
        if previous is not None and t.name in previous:
            kept = _blocks(t.to_matrix(previous[t.name]).to(torch.uint8), pattern).amax(-1) > 0
            sc = torch.where(kept, sc, torch.full_like(sc, -1.0))
        scores.append(sc)
    keeps = []
    if scope == "global":
        if isinstance(sparsity, dict):
            raise WnccError("per-layer sparsities need scope 'layer'")
        flat = torch.cat([s.flatten() for s in scores]) if scores else torch.zeros(0)
        keep = torch.ones(flat.numel(), dtype=torch.bool)
        keep[torch.argsort(flat, stable=True)[:_count(sparsity, flat.numel())]] = False
        keeps = list(keep.split([s.numel() for s in scores]))
    else:
        for t, s in zip(tgts, scores):
            share = sparsity.get(t.name, 0.0) if isinstance(sparsity, dict) else sparsity
            keep = torch.ones(s.numel(), dtype=torch.bool)
            keep[torch.argsort(s.flatten(), stable=True)[:_count(share, s.numel())]] = False
            keeps.append(keep)
    return {t.name: t.from_matrix(_expand(k.reshape(s.shape), pattern))
            for t, k, s in zip(tgts, keeps, scores)}


@torch.no_grad()
def apply_masks(tgts: list[Target], masks: dict[str, torch.Tensor]) -> None:
    for t in tgts:
        t.param.mul_(masks[t.name].to(t.param.dtype))


@torch.no_grad()
def input_means(model: nn.Module, tgts: list[Target], batch) -> dict[str, torch.Tensor]:
    """Mean of every pruned conv's input per input channel over a batch (x, mel, target)."""
    mods = {n + ".weight": m for n, m in model.named_modules()}
    means: dict[str, torch.Tensor] = {}
    hooks = []
    for t in tgts:
        if t.kind == "embed":
            continue

        def hook(mod, inputs, output, name=t.name):
            means[name] = inputs[0].detach().double().mean(dim=(0, 2))

        hooks.append(mods[t.name].register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        model(batch[0], batch[1])
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return means


@torch.no_grad()
def correct_biases(model: nn.Module, tgts: list[Target], masks: dict[str, torch.Tensor],
                   means: dict[str, torch.Tensor]) -> None:
    """Fold the mean contribution of the weights about to be zeroed into the bias:
    b[o] += sum_{c,k} w[o,c,k] (1 - mask) mean_in[c]. Call before ``apply_masks``."""
    mods = {n + ".weight": m for n, m in model.named_modules()}
    for t in tgts:
        mod = mods[t.name]
        if t.name not in means or getattr(mod, "bias", None) is None:
            continue
        removed = t.param.detach().double() * (~masks[t.name]).double()
        if t.kind == "convT":  # [Cin, Cout, K]
            shift = torch.einsum("cok,c->o", removed, means[t.name])
        else:  # [Cout, Cin, K]
            shift = torch.einsum("ock,c->o", removed, means[t.name])
        mod.bias.add_(shift.to(mod.bias.dtype))


def cubic_sparsity(t: float, final: float, initial: float = 0.0, t0: float = 0.0, n: int = 10,
                   dt: float = 1.0) -> float:
    """Zhu & Gupta: s_t = s_f + (s_i - s_f)(1 - (t - t0)/(n dt))^3, held at s_i before t0 and
    at s_f after t0 + n dt."""
    frac = min(max((t - t0) / (n * dt), 0.0), 1.0)
    return final + (initial - final) * (1.0 - frac) ** 3


# ----------------------------------------------------------------------------- report

@dataclass
class LayerSparsity:
    name: str
    shape: list[int]
    matrix: list[int]
    params: int
    zeros: int
    sparsity: float
    blocks: int
    zero_blocks: int


@dataclass
class PruneResult:
    """What ``prune`` did. ``sparsity`` counts exact zeros over all pruned weights."""

    requested: float
    method: str
    pattern: str
    scope: str
    norm: str
    include_embedding: bool
    layers: list[LayerSparsity]
    masks: dict[str, torch.Tensor] = field(repr=False)
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    bias_correction: bool = False
    distill: float = 0.0
    temperature: float = 1.0
    qat: str | None = None
    validation: list[dict] = field(default_factory=list)
    allocation: dict[str, float] | None = None  # each weight's final sparsity, when allocated

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def zeros(self) -> int:
        return sum(layer.zeros for layer in self.layers)

    @property
    def sparsity(self) -> float:
        return self.zeros / self.params if self.params else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"requested": self.requested, "achieved": self.sparsity, "method": self.method,
                "pattern": self.pattern, "scope": self.scope, "norm": self.norm,
                "include_embedding": self.include_embedding,
                "bias_correction": self.bias_correction, "distill": self.distill,
                "temperature": self.temperature, "qat": self.qat,
                "validation": self.validation, "allocation": self.allocation,
                "params": self.params,
                "zeros": self.zeros, "seconds": round(self.seconds, 1),
                "layers": [asdict(layer) for layer in self.layers], "history": self.history}


@torch.no_grad()
def sparsity_report(model: nn.Module, pattern: Pattern | str = Pattern(),
                    include_embedding: bool = False) -> list[LayerSparsity]:
    """Exact zeros per pruned weight, and all-zero blocks of ``pattern`` where it tiles."""
    pattern = parse_pattern(pattern)
    rows = []
    for t in targets(model, include_embedding):
        m = t.to_matrix(t.param)
        r, c = t.matrix_shape
        zeros = int((t.param == 0).sum())
        if r % pattern.rows == 0 and c % pattern.cols == 0:
            b = _blocks(m, pattern)
            blocks, zb = b.shape[0] * b.shape[1], int((b == 0).all(-1).sum())
        else:
            blocks, zb = 0, 0
        rows.append(LayerSparsity(t.name, list(t.shape), [r, c], t.param.numel(), zeros,
                                  zeros / t.param.numel(), blocks, zb))
    return rows


# ----------------------------------------------------------------------------- data

@lru_cache(maxsize=4)
def _corpus(path: str):
    from wncc.prune.examples import train_module

    tr = train_module()
    root = Path(path)
    if not (root / "manifest.json").exists():
        raise WnccError("not a corpus folder (no manifest.json; build one with "
                        "examples/corpus.py)", path=path)
    data = tr.feature_cache(root)
    return data, tr


def load_split(corpus: str | Path, split: str, hop: int):
    """examples/train.py's ``Split`` of a corpus folder (features cached in the corpus)."""
    data, tr = _corpus(str(Path(corpus).resolve()))
    if f"{split}_frames" not in data or len(data[f"{split}_frames"]) == 0:
        raise WnccError(f"corpus has no '{split}' utterances", path=str(corpus))
    return tr.Split(data, split, hop)


def evaluate(model: nn.Module, corpus: str | Path, seconds: float = 30.0,
             split: str = "validation") -> float:
    """Teacher-forced NLL (bits/sample) of examples/train.py's ``validate``: whole utterances of
    ``split`` in order, up to ``seconds`` of audio (0 = all)."""
    from wncc.prune.examples import train_module

    was_training = model.training
    bits = train_module().validate(model, load_split(corpus, split, model.cfg.hop), seconds)
    model.train(was_training)
    return bits


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, target: torch.Tensor,
                      alpha: float, temperature: float = 1.0) -> torch.Tensor:
    """(1 - alpha) CE(student, target) + alpha T^2 KL(softmax(teacher / T) || softmax(student /
    T)), both means over the positions whose target is not -100; logits ``[B, classes, time]``,
    targets ``[B, time]``. alpha = 0 is the plain cross-entropy."""
    ce = F.cross_entropy(student, target, ignore_index=-100)
    if alpha == 0:
        return ce
    keep = target != -100
    log_s = F.log_softmax(student / temperature, dim=1).transpose(1, 2)[keep]
    log_t = F.log_softmax(teacher / temperature, dim=1).transpose(1, 2)[keep]
    kl = (log_t.exp() * (log_t - log_s)).sum(-1).mean()
    return (1 - alpha) * ce + alpha * temperature ** 2 * kl


def train_step(model: nn.Module, opt: torch.optim.Optimizer, batch, masks=None,
               tgts: list[Target] | None = None, teacher: nn.Module | None = None,
               alpha: float = 0.0, temperature: float = 1.0, scale: float = 1.0) -> float:
    """examples/train.py's step (cross-entropy, targets -100 ignored, clip 1.0, Adam), with the
    pruned weights' gradients zeroed before and the masks re-applied after the update; with a
    ``teacher``, the ``distillation_loss``; the loss times ``scale`` (see ``distributed``)."""
    x, mel, t = batch
    if teacher is None or alpha == 0:
        loss = F.cross_entropy(model(x, mel), t, ignore_index=-100)
    else:
        with torch.no_grad():
            soft = teacher(x, mel)
        loss = distillation_loss(model(x, mel), soft, t, alpha, temperature)
    loss = loss * scale
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if masks is not None:
        for tg in tgts:
            if tg.param.grad is not None:
                tg.param.grad.mul_(masks[tg.name].to(tg.param.dtype))
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if masks is not None:
        apply_masks(tgts, masks)
    return loss.item()


# ----------------------------------------------------------------------------- API

def schedule_steps(steps: int, events: int = 10, ramp: float = 0.75) -> tuple[int, int]:
    """(n, dt) of the pruning events for ``steps`` fine-tuning steps: n events (at most
    ``events``) at t = dt, 2 dt, ..., n dt within the first ``ramp`` of the steps."""
    span = max(1, int(round(ramp * steps)))
    n = max(1, min(events, span))
    return n, max(1, span // n)


def prune(model: nn.Module, sparsity: float | dict[str, float], method: str = "oneshot",
          pattern: str | Pattern = "unstructured", scope: str = "global", *, norm: str = "l2",
          include_embedding: bool = False, corpus: str | Path | None = None, steps: int = 300,
          events: int = 10, ramp: float = 0.75, lr: float = 5e-4, batch: int = 16,
          frames: int = 8, seed: int = 0, threads: int | None = None,
          bias_correction: bool = False, calib_crops: int = 32, distill: float = 0.0,
          temperature: float = 1.0, val_every: int = 0, val_seconds: float = 10.0,
          patience: int = 3, qat: str | None = None,
          log: Callable[[dict], None] | None = None) -> PruneResult:
    """Prune ``model`` (an examples/wavenet.py WaveNet) in place to ``sparsity`` of its
    Conv1d/ConvTranspose1d weights (plus the embedding with ``include_embedding``).

    method "oneshot": rank once and zero. "iterative": fine-tune ``steps`` steps on ``corpus``'s
    train split, pruning on the cubic schedule (see the module docstring); ``history`` (and
    ``log``) get one record per pruning event: step, target, achieved sparsity and the mean
    training loss in bits (the NLL; with ``distill``, the distillation loss) of the steps since the
    previous event. Returns a
    ``PruneResult`` (per-layer achieved sparsity in ``layers``, overall in ``sparsity``); the
    model is left in eval mode with zeros baked in.

    ``qat`` ("int4" or "int8", iterative only): the fine-tuning sees the conv weights as that
    precision will store them and ends with them on its grid (``wncc.prune.qat``); with sparsity
    0 it is quantization-aware fine-tuning alone.

    ``sparsity`` as a dict (weight name -> final sparsity, an allocation of ``wncc
    sensitivity``): each layer pruned to its own fraction (scope "layer"; the overall target is
    their weighted mean, ``allocated_sparsity``); the iterative schedule scales every layer's
    fraction alike.

    ``distill`` (alpha in [0, 1]) and ``temperature``: distillation from the unpruned model;
    ``val_every``, ``val_seconds``, ``patience``: early stopping on the validation NLL (see the
    module docstring; its measurements go to ``validation``).

    ``bias_correction`` (needs ``corpus``): at every pruning event, layer by layer in forward
    order, the mean contribution of the weights being zeroed (input channel means over
    ``calib_crops`` crops of the train split, measured after the earlier layers' cuts) is folded
    into the layer's bias. Off by default (plain magnitude pruning). It matters where
    inputs have a large mean: the post-ReLU inputs of head1/head2 and the log-mel input of the
    conditioning projections."""
    start = time.time()
    pat = parse_pattern(pattern)
    _choice(method, METHODS, "method")
    _choice(scope, SCOPES, "scope")
    _choice(norm, NORMS, "norm")
    tgts = targets(model, include_embedding)
    check_pattern(tgts, pat)
    allocation = sparsity if isinstance(sparsity, dict) else None
    if allocation is not None:
        scope = "layer"
        s_f = allocated_sparsity(tgts, allocation)
    else:
        s_f = check_sparsity(sparsity)
    history: list[dict] = []
    validation: list[dict] = []
    if method == "iterative" and corpus is None:
        raise WnccError("iterative pruning fine-tunes on a corpus: pass --corpus DIR "
                        "(a folder written by examples/corpus.py)")
    if method == "iterative" and steps < 1:
        raise WnccError(f"iterative pruning needs at least 1 fine-tuning step, got {steps}")
    if bias_correction and corpus is None:
        raise WnccError("bias correction measures input means on a corpus: pass --corpus DIR")
    if not 0.0 <= distill <= 1.0:
        raise WnccError(f"distillation weight must be in [0, 1], got {distill}")
    if not temperature > 0:
        raise WnccError(f"distillation temperature must be positive, got {temperature}")
    if qat is not None and method != "iterative":
        raise WnccError("quantization-aware fine-tuning needs fine-tuning: use --method iterative")
    if val_every < 0 or patience < 1:
        raise WnccError(f"early stopping needs val_every >= 0 and patience >= 1, got "
                        f"{val_every} and {patience}")
    if threads:
        torch.set_num_threads(threads)
    calib = None
    if corpus is not None and (method == "iterative" or bias_correction):
        import numpy as np

        train = load_split(corpus, "train", model.cfg.hop)
        if not (train.frames >= frames).any():
            raise WnccError(f"no train utterance has {frames} frames", path=str(corpus))
        if bias_correction:
            calib = train.batch(np.random.default_rng(seed + 1), calib_crops, frames, 0)

    def cut(target: float, previous):
        share: float | dict[str, float] = target
        if allocation is not None:  # every layer's share scaled alike along the schedule
            share = {name: a * target / s_f if s_f else a for name, a in allocation.items()}
        new = compute_masks(tgts, share, pat, scope, norm, previous)
        if calib is None:
            apply_masks(tgts, new)
            return new
        for t in tgts:  # in forward order: each layer's input means after the earlier cuts
            correct_biases(model, [t], new, input_means(model, [t], calib))
            apply_masks([t], new)
        return new

    if method == "iterative":
        skip = model.cfg.receptive_field - 1
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        n, dt = schedule_steps(steps, events, ramp)
        masks = {t.name: torch.ones_like(t.param, dtype=torch.bool) for t in tgts}
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        teacher = _frozen_copy(model) if distill > 0 else None
        if qat is not None:
            qat_weights.attach(model, qat)
        rank, size = distributed.world()
        student = distributed.wrap(model, size)
        stopper = _EarlyStop(model, corpus, val_every, val_seconds, patience, n * dt, log)
        validation = stopper.records
        model.train()
        running, count = 0.0, 0
        for step in range(steps):
            if stopper.stop(step):
                break
            if step % dt == 0 and 0 < step // dt <= n:
                target = cubic_sparsity(step, s_f, 0.0, 0, n, dt)
                masks = cut(target, masks)
                rec = {"step": step, "target": round(target, 6),
                       "achieved": round(_achieved(tgts), 6),
                       "train_bits": round(running / count / math.log(2), 4) if count else None}
                history.append(rec)
                running, count = 0.0, 0
                if log:
                    log(rec)
            progress = step / steps
            for g in opt.param_groups:
                g["lr"] = lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
            local, scale = distributed.shard(train.batch(rng, batch, frames, skip), rank, size)
            running += distributed.global_mean(
                train_step(student, opt, local, masks, tgts, teacher, distill, temperature, scale),
                size)
            count += 1
        stopper.restore_best(steps)
        if qat is not None:
            qat_weights.bake(model)
        # the final target (a no-op when the schedule already reached it)
        masks = cut(s_f, masks)
        rec = {"step": steps, "target": s_f, "achieved": round(_achieved(tgts), 6),
               "train_bits": round(running / count / math.log(2), 4) if count else None}
        history.append(rec)
        if log:
            log(rec)
    else:
        masks = cut(s_f, None)
    model.eval()
    return PruneResult(requested=s_f, method=method, pattern=str(pat), scope=scope, norm=norm,
                       include_embedding=include_embedding,
                       layers=sparsity_report(model, pat, include_embedding), masks=masks,
                       history=history, seconds=time.time() - start,
                       bias_correction=bias_correction, distill=distill,
                       temperature=temperature, qat=qat, validation=validation,
                       allocation=allocation)


def allocated_sparsity(tgts: list[Target], allocation: dict[str, float]) -> float:
    """The overall sparsity of per-layer fractions (weight name -> fraction), checked: every
    name is a prunable weight and every fraction in [0, 1)."""
    names = {t.name for t in tgts}
    for name, share in allocation.items():
        if name not in names:
            raise WnccError(f"the allocation names '{name}', which is not a prunable weight "
                            f"of this model")
        check_sparsity(share)
    total = sum(t.param.numel() for t in tgts)
    return sum(allocation.get(t.name, 0.0) * t.param.numel() for t in tgts) / total


def _frozen_copy(model: nn.Module) -> nn.Module:
    import copy

    teacher = copy.deepcopy(model).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


class _EarlyStop:
    """Validation NLL every ``every`` steps from step ``start`` on (the schedule at its final
    sparsity); ``stop(step)`` after ``patience`` measurements without improvement;
    ``restore_best`` measures the last state too and loads the best weights."""

    def __init__(self, model: nn.Module, corpus, every: int, seconds: float, patience: int,
                 start: int, log: Callable[[dict], None] | None) -> None:
        self.model, self.corpus, self.every, self.seconds = model, corpus, every, seconds
        self.patience, self.start, self.log = patience, start, log
        self.records: list[dict] = []
        self.best, self.best_state, self.since = math.inf, None, 0

    def _measure(self, step: int) -> None:
        bits = evaluate(self.model, self.corpus, self.seconds)
        rec = {"step": step, "val_bits": round(bits, 6)}
        self.records.append(rec)
        if self.log:
            self.log(rec)
        if bits < self.best:
            self.best, self.since = bits, 0
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self.since += 1

    def stop(self, step: int) -> bool:
        if not self.every or step <= self.start or (step - self.start) % self.every:
            return False
        self._measure(step)
        return self.since >= self.patience

    def restore_best(self, steps: int) -> None:
        if not self.every:
            return
        if self.since < self.patience and (not self.records or self.records[-1]["step"] != steps):
            self._measure(steps)
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)


def _achieved(tgts: list[Target]) -> float:
    total = sum(t.param.numel() for t in tgts)
    return sum(int((t.param == 0).sum()) for t in tgts) / total if total else 0.0


def save_checkpoint(model: nn.Module, result: PruneResult, path: str | Path,
                    source: str = "") -> Path:
    """``{"model": state_dict (zeros baked in), "config", "prune": report}``; loads with
    ``examples/wavenet.py --checkpoint`` and ``wncc prune``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"model": model.state_dict(), "config": asdict(model.cfg),
                "prune": {**result.to_dict(), "source": source}}, tmp)
    tmp.replace(path)
    return path


def export_onnx(model: nn.Module, path: str | Path) -> Path:
    """examples/wavenet.py's export (dynamo, opset 18); weights stay named like the state_dict."""
    from wncc.prune.examples import wavenet_module

    path = Path(path)
    model.eval()
    wavenet_module().export(model, path)
    return path


def onnx_zeros(path: str | Path, names: list[str]) -> dict[str, tuple[int, int]]:
    """(zeros, size) of the named initializers of an ONNX file."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    inits = {i.name: i for i in onnx.load(str(path)).graph.initializer}
    out = {}
    for name in names:
        if name in inits:
            a = numpy_helper.to_array(inits[name])
            out[name] = (int(np.count_nonzero(a == 0)), int(a.size))
    return out

"""Quantization-aware fine-tuning of the weights (straight-through estimator).

During fine-tuning every Conv1d / ConvTranspose1d weight is used as ``wncc quantize`` will store
it: symmetric, one scale per output channel (axis 0 of a Conv1d weight, axis 1 of a
ConvTranspose1d one), ``s = max|w| / qmax`` and ``q = clamp(round(w / s), -qmax, qmax)`` with
qmax 7 for int4 and 127 for int8; the forward pass sees ``q s`` and the gradient passes straight
through to the float weights (Bengio et al. 2013; Jacob et al. 2018). ``bake`` writes ``q s``
into the weights, so ``wncc quantize`` of the export finds the same integers (its scale
``max|q s| / qmax`` is ``s`` to the last bit or one ulp away, and the rounding lands on q).
Activations stay as calibration will quantize them (int8); only the weights are trained for.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from wncc.errors import WnccError

QMAX = {"int4": 7, "int8": 127}


class FakeQuant(nn.Module):
    """``w -> q s`` per output channel, with the straight-through gradient."""

    def __init__(self, qmax: int, axis: int) -> None:
        super().__init__()
        self.qmax, self.axis = qmax, axis

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        dims = [d for d in range(w.dim()) if d != self.axis]
        s = w.detach().abs().amax(dim=dims, keepdim=True) / self.qmax
        s = torch.where(s > 0, s, torch.ones_like(s))
        q = torch.clamp(torch.round(w / s), -self.qmax, self.qmax) * s
        return w + (q - w).detach()


def _convs(model: nn.Module) -> list[tuple[nn.Module, int]]:
    return [(m, 1 if isinstance(m, nn.ConvTranspose1d) else 0) for m in model.modules()
            if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d))]


def attach(model: nn.Module, dtype: str) -> None:
    """Fake-quantize every conv weight of ``model`` as ``dtype`` from now on."""
    if dtype not in QMAX:
        raise WnccError(f"quantization-aware fine-tuning is for {' or '.join(QMAX)} weights, "
                        f"not '{dtype}'")
    for mod, axis in _convs(model):
        parametrize.register_parametrization(mod, "weight", FakeQuant(QMAX[dtype], axis))


def bake(model: nn.Module) -> None:
    """Write the fake-quantized weights into the model and drop the parametrizations."""
    for mod, _ in _convs(model):
        if parametrize.is_parametrized(mod, "weight"):
            parametrize.remove_parametrizations(mod, "weight", leave_parametrized=True)

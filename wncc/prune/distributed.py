"""Data-parallel fine-tuning under ``torchrun`` (DDP, the gloo backend on CPU).

Every process draws the same global batch from the same seeded generator and trains on its own
contiguous share of the rows; DDP averages the gradients. Each process's loss is its share's mean
scaled by ``size * local positions / global positions`` (positions: targets that are not -100),
so the average of the processes' gradients is the gradient of the global batch's mean loss,
exactly what one process computes on the whole batch (up to the order of float additions). The
weights stay identical on every process, so the pruning masks, the validation NLL and early
stopping agree everywhere; only rank 0 writes files.
"""

from __future__ import annotations

import os

import torch
from torch import distributed as dist
from torch import nn

from wncc.errors import WnccError


def world() -> tuple[int, int]:
    """(rank, size) of torchrun's process group, joined on first use; (0, 1) without torchrun."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group("gloo")
    return dist.get_rank(), dist.get_world_size()


def shard(batch: tuple[torch.Tensor, ...], rank: int, size: int,
          ) -> tuple[tuple[torch.Tensor, ...], float]:
    """This process's rows of the global batch ``(x, mel, target)`` and its loss scale."""
    x, mel, t = batch
    if size == 1:
        return batch, 1.0
    if len(x) % size:
        raise WnccError(f"the batch of {len(x)} crops does not split over {size} processes")
    rows = slice(rank * len(x) // size, (rank + 1) * len(x) // size)
    local = (x[rows], mel[rows], t[rows])
    return local, size * int((t[rows] != -100).sum()) / max(1, int((t != -100).sum()))


def wrap(model: nn.Module, size: int) -> nn.Module:
    """The model in DDP when there are several processes (its parameters stay the model's)."""
    if size == 1:
        return model
    return nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)


def global_mean(value: float, size: int) -> float:
    """The global batch's loss from each process's scaled loss."""
    if size == 1:
        return value
    total = torch.tensor([value / size], dtype=torch.float64)
    dist.all_reduce(total)
    return float(total)

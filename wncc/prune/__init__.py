"""Magnitude pruning of WaveNet vocoders (examples/wavenet.py): one-shot or iterative (Zhu & Gupta
cubic schedule with fine-tuning), global or per-layer thresholds, unstructured or RxC blocks over
the ``[Cout, K*Cin]`` weight matrix. ``prune(model, 0.9, pattern="block:4x4")`` zeroes weights
in place and returns a ``PruneResult`` (achieved sparsity per layer); ``save_checkpoint`` and
``export_onnx`` write the pruned state_dict and the ONNX export for ``wncc quantize`` /
``wncc compile``.

Needs torch (the ``examples`` extra); it is imported on first use of a name from here, so
``wncc.prune.command.register`` costs nothing at CLI start-up.
"""

from __future__ import annotations

__all__ = ["METHODS", "NORMS", "SCOPES", "LayerSparsity", "Pattern", "PruneResult",
           "check_sparsity", "compute_masks", "cubic_sparsity", "distillation_loss", "evaluate",
           "export_onnx", "onnx_zeros", "parse_pattern", "prune", "save_checkpoint",
           "schedule_steps", "sparsity_report", "targets"]


def __getattr__(name: str):
    if name in __all__:
        from wncc.prune import core as _impl

        return getattr(_impl, name)
    raise AttributeError(f"module 'wncc.prune' has no attribute {name!r}")

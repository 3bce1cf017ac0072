"""Frontend fixtures: two quantized models that must import to the same integer graph."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from wncc.frontend.onnx import import_model
from wncc.golden.model import GoldenModel
from wncc.pipeline import load


def _integer_graph(path: Path) -> Counter:
    """(op, dtype and quantization of each output) of every node (the formats order their
    nodes differently)."""
    graph = import_model(path)
    return Counter((n.op, *((graph.tensors[o].dtype, graph.tensors[o].quant) for o in n.outputs))
                   for n in graph.nodes)


def _teacher_forced(path: Path) -> np.ndarray:
    rng = np.random.default_rng(5)
    mel = rng.standard_normal((3, 80)).astype(np.float32)
    return GoldenModel(load(path)).teacher_forced(rng.integers(0, 256, 600), mel)


@pytest.fixture
def assert_same_integer_model() -> Callable[[Path, Path], None]:
    """Two models written differently import to the same ops, integer types, scales and zero
    points, and compute the same logits."""
    def check(a: Path, b: Path) -> None:
        assert _integer_graph(a) == _integer_graph(b)
        np.testing.assert_array_equal(_teacher_forced(a), _teacher_forced(b))
    return check

"""The golden integer model op by op against the QDQ graph's arithmetic."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from wncc.golden.model import GoldenModel
from wncc.golden.qdq_reference import per_op_steps
from wncc.pipeline import load

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def int8_graph(shipped_quantized):
    return load(shipped_quantized("int8"))


def _inputs():
    mel = np.load(ROOT / "examples" / "data" / "test_clip_mel.npy")[:5]
    return np.random.default_rng(0).integers(0, 256, 1000), mel


def test_every_int8_op_within_one_step(int8_graph):
    steps = per_op_steps(GoldenModel(int8_graph), *_inputs())
    ops = {int8_graph.node(name).op for name in steps}
    assert {"conv", "conv_ring", "add", "gate", "scale"} <= ops
    values = np.concatenate([v.reshape(-1) for v in steps.values()])
    assert values.max() <= 1 and np.mean(values == 0) > 0.99


def test_a_wrong_multiplier_is_caught(int8_graph):
    node = next(n for n in int8_graph.nodes if n.op == "conv_ring")
    q = node.attrs["q"]
    node.attrs["q"] = dataclasses.replace(q, mult=q.mult * 3 // 4)  # a 25% rescale error
    steps = per_op_steps(GoldenModel(int8_graph), *_inputs())
    assert steps[node.name].max() > 1

"""wn_generate_batch: several streams generated together, one pass per op, are bit-identical to
each stream generated alone (different mels, seeds and phases), on the portable and the packed
x86-vnni kernels, for class and scalar inputs."""

from __future__ import annotations

import numpy as np
import pytest

from wncc.bench.generate import c_generate, c_generate_batch, random_mel
from wncc.bench.native import runnable
from wncc.compiler import compile_model
from wncc.harness import CModel, Streams

SAMPLES = 700  # about this many: whole frames, as the model's lookahead and flush make them


def _same_as_alone(model, dtype: str, target: str, work, streams: int = 3) -> None:
    _, project = compile_model(model, work / target, target=target, dtype=dtype)
    cm = CModel(project)
    frames = -(-SAMPLES // cm.hop)
    mels = np.stack([random_mel(frames, cm.n_mels, 7 + b) for b in range(streams)])
    seeds = [11 * b + 1 for b in range(streams)]
    together = Streams(cm, streams).vocode(mels, seeds)
    alone = [cm.vocode(mels[b], seeds[b])[1] for b in range(streams)]
    assert together.shape[1] >= 4 * cm.hop
    for b in range(streams):
        np.testing.assert_array_equal(together[b], alone[b])
    assert len({together[b].tobytes() for b in range(streams)}) == streams  # really distinct


def test_class_input_fp32_host(models, tmp_path):
    _same_as_alone(models["tiny"], "fp32", "host", tmp_path)


def test_class_input_int8_packed(shipped_quantized, tmp_path):
    """x86-vnni's packed kernels where this CPU runs them, else the portable ones."""
    target = runnable()[-1].name
    _same_as_alone(shipped_quantized("int8"), "int8", target, tmp_path)


@pytest.mark.long
def test_class_input_int8_on_every_native_target(shipped_quantized, tmp_path):
    for target in runnable():
        _same_as_alone(shipped_quantized("int8"), "int8", target.name, tmp_path / target.name)


@pytest.mark.xdist_group("families")
def test_scalar_input(family_export, tmp_path):
    _, path = family_export("r9y9-gaussian")
    _same_as_alone(path, "fp32", "host", tmp_path)


def test_bench_helper_matches(models, tmp_path):
    """c_generate_batch (the bench's loop, a partial last frame) against c_generate."""
    _, project = compile_model(models["tiny"], tmp_path / "p", target="host", dtype="fp32")
    cm = CModel(project)
    mels = np.stack([random_mel(-(-SAMPLES // cm.hop), cm.n_mels, b) for b in range(2)])
    together = c_generate_batch(Streams(cm, 2), mels, SAMPLES, [5, 6])
    for b in range(2):
        np.testing.assert_array_equal(together[b], c_generate(cm, mels[b], SAMPLES, 5 + b))


def test_streams_at_different_phases(models, tmp_path):
    """A stream that generated some samples alone first joins the batch where it stands."""
    _, project = compile_model(models["tiny"], tmp_path / "p", target="host", dtype="fp32")
    cm = CModel(project)
    mels = np.stack([random_mel(1, cm.n_mels, b) for b in range(2)])
    group = Streams(cm, 2)
    group.reset([3, 4])
    group.push_frame(mels[:, 0])
    head = np.empty(5, np.int16)
    assert cm.lib.wn_generate(group.states[0], cm.ffi.from_buffer("int16_t[]", head), 5) == 0
    assert cm.lib.wn_available(group.states[0]) == cm.hop - 5
    with pytest.raises(RuntimeError, match="WN_ERR_NEED_FRAME"):
        group.generate(cm.hop)  # stream 0 has hop - 5 left
    rest = group.generate(cm.hop - 5)
    np.testing.assert_array_equal(np.concatenate([head, rest[0]]),
                                  c_generate(cm, mels[0], cm.hop, 3))
    np.testing.assert_array_equal(rest[1], c_generate(cm, mels[1], cm.hop, 4)[:cm.hop - 5])

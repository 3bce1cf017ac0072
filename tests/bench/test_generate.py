"""Correctness of the generation-speed benchmark (no timing assertions): the naive windowed peers
compute exactly what the full-sequence network computes, they and the C generate the same
samples, and the dilation variants really cost the same MACs per sample."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import onnxruntime as ort
import pytest

from wncc.bench import generate as gen

SEED = 0


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> gen.BuiltModel:
    """tiny with 8 layers and a short hop: receptive field 256 spans up to 7 frames, so the
    window really crosses frame boundaries (tiny's own receptive field of 16 never needs more
    than two)."""
    cfg = dataclasses.replace(gen.resolve_config("tiny"), layers_per_stack=8, hop=50)
    return gen.build_model("tiny8", cfg, tmp_path_factory.mktemp("bench"), SEED, dynamo=False)


@pytest.fixture(scope="module")
def teacher(model: gen.BuiltModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(history x [T + 1], mel [F, n_mels], ORT full-sequence logits [classes, T])."""
    frames = 12
    t = frames * model.hop
    x = np.random.default_rng(1).integers(0, 256, t + 1).astype(np.int64)
    mel = gen.random_mel(frames, model.n_mels, seed=2)
    session = ort.InferenceSession(str(model.onnx_path), providers=["CPUExecutionProvider"])
    full = session.run(["logits"], {"x": x[None, :t],
                                    "mel": np.ascontiguousarray(mel.T[None])})[0][0]
    return x, mel, full


def test_window_is_smallest_whole_frame_cover() -> None:
    for rf, hop in [(16, 200), (256, 50), (2047, 200), (1, 10), (201, 200)]:
        counts = set()
        for t in range(0, 6 * max(rf, hop)):
            first, last = gen.window_frames(t, rf, hop)
            lo = max(0, t - rf + 1)
            assert first * hop <= lo < (first + 1) * hop  # covers the field, no spare frame
            assert last * hop <= t < (last + 1) * hop
            counts.add(last - first + 1)
        assert max(counts) == gen.max_window_frames(rf, hop)


def test_steady_start_gives_full_windows() -> None:
    for rf, hop in [(16, 200), (256, 50), (2047, 200), (201, 200)]:
        start = gen.steady_start(rf, hop)
        assert start % hop == 0 and start >= rf - 1
        counts = {len(range(*gen.window_frames(t, rf, hop))) + 1 for t in range(start, start + hop)}
        full = gen.max_window_frames(rf, hop)
        assert counts <= {full - 1, full} and full in counts


def test_naive_generation_continues_a_prefix(model: gen.BuiltModel) -> None:
    """Greedy (no random draws): generating 60 then continuing 40 equals generating 100."""
    mel = gen.random_mel(4, model.n_mels, seed=5)
    fn = gen.ort_logits_fn(model.onnx_path)
    args = (model.receptive_field, model.hop, SEED, 0.0)
    whole, _ = gen.naive_generate(fn, mel, 100, *args)
    tail, _ = gen.naive_generate(fn, mel, 40, *args, prefix=whole[:60])
    assert np.array_equal(tail, whole[60:])
    assert len(np.unique(whole)) > 1


def test_model_receptive_field_and_macs(model: gen.BuiltModel) -> None:
    assert model.receptive_field == model.cfg.receptive_field == 256
    assert gen.max_window_frames(model.receptive_field, model.hop) == 7
    assert gen.torch_macs(model.module) == (model.macs_per_sample, model.macs_per_frame)


@pytest.mark.parametrize("peer", ["ort", "torch"])
def test_window_logits_equal_full_sequence(model: gen.BuiltModel, teacher, peer: str) -> None:
    x, mel, full = teacher
    logits_at = (gen.ort_logits_fn(model.onnx_path) if peer == "ort"
                 else gen.torch_logits_fn(model.module))
    positions = range(full.shape[1])
    with gen.single_thread_torch():
        err = gen.window_is_exact_check(full, logits_at, x, mel, positions,
                                        model.receptive_field, model.hop)
    assert err <= 1e-4


def test_window_shorter_than_receptive_field_is_detected(model: gen.BuiltModel, teacher) -> None:
    """The exactness check has teeth: half the receptive field changes the logits."""
    x, mel, full = teacher
    err = gen.window_is_exact_check(full, gen.ort_logits_fn(model.onnx_path), x, mel,
                                    range(full.shape[1]), model.receptive_field // 2, model.hop)
    assert err > 1e-4


def test_naive_peers_and_c_generate_the_same_samples(model: gen.BuiltModel) -> None:
    n = 7 * model.hop + 13  # ends inside a frame
    mel = gen.random_mel(8, model.n_mels, seed=3)
    ort_cls, ort_in_model = gen.naive_generate(gen.ort_logits_fn(model.onnx_path), mel, n,
                                               model.receptive_field, model.hop, SEED)
    with gen.single_thread_torch():
        torch_cls, _ = gen.naive_generate(gen.torch_logits_fn(model.module), mel, n,
                                          model.receptive_field, model.hop, SEED)
    pcm = gen.c_generate(model.cmodel(), mel, n, SEED)
    c_cls = gen.pcm_to_classes(pcm)
    assert len(ort_cls) == len(torch_cls) == len(pcm) == n
    assert ort_in_model > 0
    # same seed, same stream: identical until a float near-tie could flip one draw
    assert np.array_equal(ort_cls[:100], c_cls[:100])
    assert np.array_equal(ort_cls[:100], torch_cls[:100])
    assert len(np.unique(c_cls)) > 10  # really sampling, not stuck on one class


def test_c_generate_matches_vocode(model: gen.BuiltModel) -> None:
    mel = gen.random_mel(3, model.n_mels, seed=4)
    classes, pcm = model.cmodel().vocode(mel, SEED)
    assert np.array_equal(gen.c_generate(model.cmodel(), mel, len(pcm), SEED), pcm)
    assert np.array_equal(gen.pcm_to_classes(pcm), classes)


def test_dilation_variants_have_equal_macs() -> None:
    wn = gen.wavenet_module()
    variants = gen.dilation_variants("base")
    long, short = variants["dilations<=512"], variants["dilations<=32"]
    assert max(long.dilations) == 512 and max(short.dilations) == 32
    assert len(long.dilations) == len(short.dilations) == 20
    assert long.receptive_field == 2047 and short.receptive_field == 157
    assert dataclasses.replace(long, dilation_cycle=0) == wn.CONFIGS["base"]
    macs = {gen.torch_macs(wn.build(cfg, SEED)) for cfg in variants.values()}
    assert len(macs) == 1


def test_measurements_report_consistent_numbers(model: gen.BuiltModel) -> None:
    res = gen.measure_config(model, c_samples=3 * model.hop, naive_samples=20, repeats=2)
    d = json.loads(json.dumps(res.to_dict()))
    assert d["c"]["samples"] == 150 and d["ort_naive"]["samples"] == 20
    assert d["naive_start"] == gen.steady_start(model.receptive_field, model.hop) == 300
    assert len(d["torch_naive"]["times_s"]) == 2
    for peer in ("c", "ort_naive", "torch_naive"):
        assert d[peer]["samples_per_s"] >= d[peer]["median_samples_per_s"] > 0
    assert d["ratio_c_ort"] == pytest.approx(d["c"]["samples_per_s"]
                                             / d["ort_naive"]["samples_per_s"])
    assert d["ort_naive"]["model_only_samples_per_s"] >= d["ort_naive"]["samples_per_s"]
    variants = gen.measure_variants([model, model], samples=100, repeats=2)
    assert [v.c.samples for v in variants] == [100, 100]
    assert all(v.to_dict()["us_per_sample"] > 0 for v in variants)

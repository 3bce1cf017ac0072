"""Bring your own WaveNet: the families of examples/families.py (their structure, our code)
compile to C and `wncc verify` passes: the C within float32 tolerance of ONNX Runtime, equal to
the golden model, seeded generation identical, the flushed tail included.

The default suite verifies one dynamic export of each family with the dynamo exporter; the
legacy and static exports of every family run with -m long. Every family also verifies in int8
(the mixture and Gaussian heads dequantized before sampling; r9y9-mulaw and kan-bayashi in the
default suite, the others with -m long), quantized by `wncc quantize` on the user's own features
(.npz mel + audio pairs with the model's mel bins, hop and extra frames: their features, not
wncc's)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_example
from wncc.pipeline import load
from wncc.verify import verify

fam = load_example("families")
# one worker runs every family test, so the session's family exports are made once
pytestmark = pytest.mark.xdist_group("families")

KINDS = {"r9y9-mulaw": ("onehot", "categorical"), "r9y9-mol": ("scalar", "mol"),
         "r9y9-gaussian": ("scalar", "gaussian"), "kan-bayashi": ("onehot", "categorical"),
         "nv-wavenet": ("class", "categorical")}  # (input kind, output distribution)
COMPILED = sorted(KINDS)


def _cases() -> list:
    cases = []
    for family in COMPILED:
        for exporter in fam.EXPORTERS:
            for dynamic in (True, False):
                default = exporter == "dynamo" and dynamic
                cases.append(pytest.param(family, exporter, dynamic,
                                          marks=[] if default else [pytest.mark.long],
                                          id=f"{family}-{exporter}-{'dynamic' if dynamic else 'static'}"))
    return cases


@pytest.mark.parametrize("family,exporter,dynamic", _cases())
def test_family_verifies_in_fp32(family_export, family, exporter, dynamic):
    _, path = family_export(family, exporter, dynamic)
    report = verify(path, dtype="fp32", seconds=0.1, golden_samples=400, stream_samples=96)
    failed = [f"{c.name}: {c.value}" for c in report.checks if not c.passed]
    assert not failed, failed
    assert {c.name for c in report.checks} >= {"logits_vs_onnxruntime", "logits_vs_golden",
                                               "samples_vs_golden", "streaming_golden_vs_c"}
    graph = load(path)
    assert (graph.input_kind, graph.head.kind) == KINDS[family]


def _features(folder, graph, utterances: int = 3, frames: int = 24) -> None:
    """The user's own features for a model: mels of its bins (plus the frames its conditioning
    drops) with the audio they describe at its hop (tones here: any audio will do)."""
    folder.mkdir()
    rng = np.random.default_rng(1)
    extra = -graph.time.frames_delta
    for i in range(utterances):
        t = np.arange(frames * graph.hop)
        np.savez(folder / f"u{i}.npz",
                 mel=rng.standard_normal((frames + extra, graph.n_mels)).astype(np.float32),
                 audio=0.4 * np.sin(2 * np.pi * t * (150 + 40 * i) / 16000))


@pytest.mark.parametrize("family", [f if f in ("r9y9-mulaw", "kan-bayashi")
                                    else pytest.param(f, marks=pytest.mark.long)
                                    for f in COMPILED])
def test_family_verifies_in_int8_on_its_own_features(tmp_path, family_export, family):
    """wncc quantize calibrated on .npz pairs, then verify teacher-forcing one of them: C ==
    golden exactly, ONNX Runtime within one step."""
    from wncc.quant.quantize import quantize

    _, path = family_export(family)
    _features(tmp_path / "features", load(path))
    q = quantize(path, "int8", tmp_path / "features", tmp_path / f"{family}-int8.onnx",
                 calib_crops=6, crop_frames=8)
    pair = np.load(tmp_path / "features" / "u0.npz")
    report = verify(q, dtype="int8", seconds=0.1, stream_samples=96, mel=pair["mel"],
                    audio=pair["audio"])
    assert report.passed, [f"{c.name}: {c.value}" for c in report.checks if not c.passed]


def test_overlapping_upsampling_keeps_history_not_lookahead(tmp_path):
    """nv-wavenet's ConvTranspose1d (kernel 4 x stride) cut to the samples: each frame's samples
    read that frame and the three before it, none after."""
    path = tmp_path / "nv.onnx"
    fam.export(fam.build("nv-wavenet", seed=1), path, "dynamo", dynamic=True,
               output_name=fam.FAMILIES["nv-wavenet"].output_name)
    time = load(path).time
    assert (time.lookahead, time.history, time.frames_delta) == (0, 3, 0)


def test_time_major_output(tmp_path):
    """kan-bayashi's original returns [1, T, classes] (a final transpose): compiled as it is, and
    verify compares ONNX Runtime's output the way round it is."""
    path = tmp_path / "kb-time-major.onnx"
    fam.export(fam.build("kan-bayashi", seed=4, time_major_output=True), path, "dynamo",
               dynamic=True, output_name=fam.FAMILIES["kan-bayashi"].output_name)
    assert load(path).time_major
    report = verify(path, dtype="fp32", seconds=0.1, golden_samples=400, stream_samples=96)
    assert report.passed, [f"{c.name}: {c.value}" for c in report.checks if not c.passed]

"""User features (wncc/pairs.py): mel arrays with their audio, checked against what the model
wants, refused in one line that says the wanted shape."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from wncc.errors import WnccError
from wncc.pairs import fit, is_pairs, load


def _wav(path, audio):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((audio * 32767).astype("<i2").tobytes())


def test_npz_pairs_either_orientation(tmp_path):
    rng = np.random.default_rng(0)
    mel = rng.standard_normal((10, 80)).astype(np.float32)
    np.savez(tmp_path / "a.npz", mel=mel, audio=rng.uniform(-1, 1, 2000))
    np.savez(tmp_path / "b.npz", mel=mel.T, audio=(rng.uniform(-1, 1, 2000) * 3e4).astype(np.int16))
    pairs = load(tmp_path, 80)
    assert [p.name for p in pairs] == ["a", "b"] and is_pairs(tmp_path)
    for p in pairs:
        np.testing.assert_array_equal(p.mel, mel)
        assert p.audio.dtype == np.float64 and np.abs(p.audio).max() <= 1.0


def test_npy_with_its_wav(tmp_path):
    mel = np.zeros((4, 80), np.float32)
    np.save(tmp_path / "u.npy", mel)
    _wav(tmp_path / "u.wav", np.linspace(-0.5, 0.5, 800))
    (pair,) = load(tmp_path / "u.npy", 80)
    assert pair.audio.size == 800 and not is_pairs(tmp_path / "u.wav")


def test_corpus_folder_with_feature_caches_is_audio(tmp_path):
    """examples/train.py caches features.npz inside the corpus folder: the folder still means
    its manifest's wavs (calibration and --data read audio from it, not the caches)."""
    from wncc.audio import wav_sources

    (tmp_path / "wav").mkdir()
    _wav(tmp_path / "wav" / "0.wav", np.linspace(-0.5, 0.5, 800))
    (tmp_path / "manifest.json").write_text(
        '{"sample_rate": 16000, "utterances": [{"id": "0", "path": "wav/0.wav", "seconds": 0.05, '
        '"split": "train"}]}')
    np.savez(tmp_path / "features.npz", train_mel=np.zeros((1, 80), np.float32))
    assert not is_pairs(tmp_path)
    assert [p.name for _, p in wav_sources(tmp_path, "train", "calibration")] == ["0.wav"]


def test_fit_cuts_to_the_samples_the_model_makes(tmp_path):
    np.savez(tmp_path / "r.npz", mel=np.zeros((14, 80), np.float32), audio=np.zeros(2600))
    (pair,) = load(tmp_path / "r.npz", 80)
    assert fit(pair, hop=256, frames_delta=-4).audio.size == 2560
    with pytest.raises(WnccError, match=r"wants \(14-4\) x 300 = 3000"):
        fit(pair, hop=300, frames_delta=-4)


@pytest.mark.parametrize("case,message", [
    ("bins", r"wants \[frames, 80\]"),
    ("no_mel", "needs a 'mel' array"),
    ("pickle", "not a numpy feature file"),
    ("loud", "floats must lie in"),
])
def test_bad_features_are_one_line(tmp_path, case, message):
    path = tmp_path / "f.npz"
    if case == "bins":
        np.savez(path, mel=np.zeros((5, 64), np.float32))
    elif case == "no_mel":
        np.savez(path, feats=np.zeros((5, 80), np.float32))
    elif case == "pickle":
        np.savez(path, mel=np.array([{"a": 1}], dtype=object))
    else:
        np.savez(path, mel=np.zeros((5, 80), np.float32), audio=np.full(100, 2.0))
    with pytest.raises(WnccError, match=message) as info:
        load(path, 80)
    assert "\n" not in str(info.value)

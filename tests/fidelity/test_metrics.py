"""Fidelity metrics: best scores for identical signals, monotone in the SNR of added noise,
deterministic Griffin-Lim baseline."""

import math
import wave
from pathlib import Path

import numpy as np
import pytest

from wncc import features, fidelity
from wncc.fidelity import griffin_lim, metrics

CLIP = Path(__file__).resolve().parents[2] / "examples" / "data" / "test_clip.wav"


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    with wave.open(str(CLIP), "rb") as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm / 32768.0


def with_noise(audio: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal(len(audio))
    return audio + noise * np.sqrt((audio ** 2).mean() / 10 ** (snr_db / 10))


def test_nll_bits() -> None:
    t = np.array([0, 5, 255, 128])
    assert metrics.nll_bits(np.zeros((256, 4)), t) == pytest.approx(8.0)
    sure = np.full((1, 256, 4), -50.0)
    sure[0, t, np.arange(4)] = 50.0
    assert metrics.nll_bits(sure, t[None]) == pytest.approx(0.0, abs=1e-12)
    # two equally likely classes: 1 bit; huge logits must not overflow
    two = np.full((256, 4), -1e4)
    two[t, np.arange(4)] = 1e4
    two[(t + 1) % 256, np.arange(4)] = 1e4
    assert metrics.nll_bits(two, t) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        metrics.nll_bits(np.zeros((256, 3)), t)


def test_identical_signals_score_best(speech: np.ndarray) -> None:
    row = fidelity.fidelity_table(speech, {"same": speech})["same"]
    assert row["pesq_wb"] == pytest.approx(4.644, abs=0.01)
    assert row["stoi"] == pytest.approx(1.0, abs=1e-6)
    assert row["lsd_db"] == 0.0 and row["mcd_db"] == 0.0
    assert row["snr_db"] == math.inf


def test_noise_moves_every_metric_the_right_way(speech: np.ndarray) -> None:
    table = fidelity.fidelity_table(speech, {f"snr{s}": with_noise(speech, s)
                                             for s in (40, 20, 5)})
    a, b, c = table["snr40"], table["snr20"], table["snr5"]
    assert a["snr_db"] == pytest.approx(40.0, abs=0.1)
    assert c["snr_db"] == pytest.approx(5.0, abs=0.1)
    assert a["pesq_wb"] > b["pesq_wb"] > c["pesq_wb"]
    assert a["stoi"] > b["stoi"] > c["stoi"]
    assert a["lsd_db"] < b["lsd_db"] < c["lsd_db"]
    assert a["mcd_db"] < b["mcd_db"] < c["mcd_db"]


def test_gain_and_truncation() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(4000) * 0.1
    # a pure gain is a constant log offset: 20 log10(2) dB of LSD, no cepstral distortion
    assert metrics.log_spectral_distance(x, 0.5 * x) == pytest.approx(6.0206, abs=1e-3)
    assert metrics.mel_cepstral_distortion(x, 0.5 * x) == pytest.approx(0.0, abs=1e-9)
    assert metrics.snr_db(x, np.concatenate([x, np.ones(100)])) == math.inf  # truncated


def test_mulaw_baseline_is_close(speech: np.ndarray) -> None:
    ceiling = fidelity.mulaw_roundtrip(speech)
    assert 30.0 < metrics.snr_db(speech, ceiling) < 45.0
    assert metrics.stoi(speech, ceiling) > 0.99


def test_istft_inverts_stft() -> None:
    x = np.random.default_rng(2).standard_normal(2000) * 0.1
    y = griffin_lim.istft(griffin_lim.stft(x))
    assert y.shape == (2000,)
    np.testing.assert_allclose(y, x, atol=1e-10)


def test_mel_inversion_matches_mel(speech: np.ndarray) -> None:
    mel = features.log_mel(speech[:8000])
    mag = griffin_lim.mel_to_magnitude(mel)
    assert mag.shape == (40, 513) and (mag >= 0).all()
    again = np.log(np.maximum(mag @ features.mel_filterbank().T, 1e-5))
    loud = mel > mel.max() - 6  # within ~50 dB of the peak
    assert np.abs(again - mel)[loud].mean() < 0.05


def test_griffin_lim_deterministic_and_converging(speech: np.ndarray) -> None:
    mel = features.log_mel(speech[8000:12000])
    a = griffin_lim.vocode(mel, iters=4, seed=3)
    b = griffin_lim.vocode(mel, iters=4, seed=3)
    c = griffin_lim.vocode(mel, iters=4, seed=4)
    assert a.shape == (4000,)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    target = griffin_lim.mel_to_magnitude(mel)

    def inconsistency(audio: np.ndarray) -> float:
        return float(np.abs(np.abs(griffin_lim.stft(audio)) - target).mean())

    assert inconsistency(griffin_lim.vocode(mel, iters=16)) < 0.7 * inconsistency(
        griffin_lim.vocode(mel, iters=1))


def test_baselines_keys_and_lengths(speech: np.ndarray) -> None:
    base = fidelity.baselines(speech[:4000], gl_iters=2)
    assert set(base) == {"mulaw", "griffin_lim"}
    assert all(len(v) == 4000 for v in base.values())

"""Log-mel features: librosa conventions (Slaney mel, Slaney norm) checked against a value table.

The reference numbers were computed once with librosa 0.11 (``hz_to_mel``/``mel_to_hz`` with
``htk=False``, ``filters.mel(..., norm='slaney')`` and ``feature.melspectrogram(np.pad(y, (412,
612)), center=False, power=1, n_fft=1024, win_length=800, hop_length=200)``); librosa is not needed
to run these tests.
"""

import numpy as np
import pytest

from wncc import features as F


def test_mel_scale_table() -> None:
    hz = np.array([0.0, 100.0, 500.0, 999.0, 1000.0, 2000.0, 4000.0, 8000.0])
    mel = [0.0, 1.5, 7.5, 14.985, 15.0, 25.0818801573, 35.1637603146, 45.2456404719]
    np.testing.assert_allclose(F.hz_to_mel(hz), mel, atol=1e-9)
    m = np.array([0.0, 5.0, 15.0, 20.0, 30.0, 45.0])
    want = [0.0, 333.3333333333, 1000.0, 1410.2385678079, 2804.6441307389, 7866.0287000883]
    np.testing.assert_allclose(F.mel_to_hz(m), want, atol=1e-7)
    np.testing.assert_allclose(F.mel_to_hz(F.hz_to_mel(hz)), hz, atol=1e-9)


def test_small_filterbank_table() -> None:
    fb = F.mel_filterbank(sr=8000, n_fft=16, n_mels=4, fmin=0.0, fmax=4000.0)
    want = np.zeros((4, 9))
    want[0, 1] = 1.9911718555e-03
    want[1, 1:4] = [1.2631023128e-04, 1.6980426153e-03, 6.7957509600e-05]
    want[2, 2:5] = [1.3976659102e-04, 1.2614937732e-03, 6.4534059493e-04]
    want[3, 4:8] = [4.0878253640e-04, 7.8907777788e-04, 5.2605185192e-04, 2.6302592596e-04]
    np.testing.assert_allclose(fb, want, rtol=1e-6, atol=1e-12)  # librosa: float32


def test_filterbank_area_normalisation() -> None:
    fb = F.mel_filterbank()
    assert fb.shape == (80, 513)
    assert (fb >= 0).all()
    # continuous triangles of height 2/(f2-f0) have unit area in Hz; sampled at 15.625 Hz bins
    # the area is close to 1 once filters are several bins wide
    area = fb.sum(axis=1) * (16000 / 1024)
    np.testing.assert_allclose(area[40:], 1.0, atol=0.02)
    assert fb[:, 0].sum() == 0.0  # fmin = 0: the DC bin is the left edge of filter 0


def test_window_is_periodic_hann_centred() -> None:
    w = F.window()
    assert w.shape == (1024,)
    assert (w[:112] == 0).all() and (w[912:] == 0).all()
    assert w[112 + 400] == pytest.approx(1.0)
    assert w[112 + 200] == pytest.approx(0.5)


def test_log_mel_table() -> None:
    t = np.arange(1000)
    sig = 0.5 * np.sin(2 * np.pi * 440 * t / 16000) + 0.25 * np.sin(2 * np.pi * 3000 * t / 16000)
    got = F.log_mel(sig)
    assert got.shape == (5, 80) and got.dtype == np.float32
    cols = [0, 10, 20, 40, 60, 79]
    edge = [-1.8016650808, 0.8446053827, -2.7332007302, -5.4138546492, -3.6420274228,
            -5.1543271167]
    inner = [-3.5699299501, 0.6817070731, -4.4867498213, -7.1443035204, -5.4048371429,
             -6.9171333134]
    middle = [-9.4671043309, 0.6621639258, -8.4192222924, -11.512925465, -11.0785517524,
              -11.512925465]
    want = np.array([edge, inner, middle, inner, edge])
    np.testing.assert_allclose(got[:, cols], want, atol=1e-5)


def test_frame_count_and_alignment() -> None:
    assert F.log_mel(np.zeros(999)).shape == (4, 80)
    assert F.log_mel(np.zeros(199)).shape == (0, 80)
    assert (F.log_mel(np.zeros(400)) == np.float32(np.log(1e-5))).all()
    # an impulse at the centre of hop block 3 sits at the centre of frame 3's window
    x = np.zeros(2000)
    x[3 * 200 + 100] = 1.0
    fr = F.frames(x)
    assert fr.shape == (10, 1024)
    assert fr[3, 512] == 1.0
    mag = F.magnitude(x)
    assert mag[3].max() == pytest.approx(1.0)  # window peak
    assert mag[3].mean() > mag[2].mean() > mag[0].mean()


def test_log_mel_peak_at_tone() -> None:
    t = np.arange(16000)
    mel = F.log_mel(0.3 * np.sin(2 * np.pi * 1000 * t / 16000))
    centres = F.mel_to_hz(np.linspace(0, F.hz_to_mel(8000.0), 82))[1:-1]
    peak = int(np.argmax(mel[40]))
    assert abs(centres[peak] - 1000.0) < 60.0

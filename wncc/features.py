"""Log-mel spectrogram (numpy only) used to condition the vocoder.

Choices (fixed, the model is trained on exactly these):

* sample rate 16 kHz, hop 200 samples (12.5 ms), 80 mel bins;
* n_fft 1024, win_length 800 (50 ms), periodic Hann window zero-padded to n_fft, centred in the
  FFT frame (librosa's convention for ``win_length < n_fft``);
* mel scale: Slaney (linear below 1 kHz, logarithmic above; librosa ``htk=False``), filters with
  Slaney area normalisation (``norm='slaney'``: each triangle scaled by 2 / bandwidth in Hz);
  fmin 0 Hz, fmax 8 kHz (Nyquist);
* magnitude (power 1) spectrogram, natural log, floor 1e-5 (ln -> -11.51), no normalisation.

Alignment: ``log_mel`` returns exactly ``len(audio) // hop`` frames, and frame ``f`` is centred on
the middle of its hop block, i.e. the FFT frame covers samples
``f*hop + hop//2 - n_fft//2 .. f*hop + hop//2 + n_fft//2 - 1``. The audio is zero padded by
``n_fft//2 - hop//2`` samples on the left and enough on the right. This equals librosa's
``melspectrogram(np.pad(audio, (412, 612)), center=False, ...)[:, :len(audio)//200]`` with the
parameters above. A trailing partial hop block gets no frame (the vocoder synthesises hop samples
per frame).
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
HOP = 200
N_MELS = 80
N_FFT = 1024
WIN_LENGTH = 800
FMIN = 0.0
FMAX = 8000.0
LOG_FLOOR = 1e-5

# Slaney mel scale: 3 mels per 200 Hz up to 1 kHz, then 27 mels per factor 6.4 in frequency.
_F_SP = 200.0 / 3.0
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney mel scale (not HTK)."""
    hz = np.asarray(hz, dtype=np.float64)
    lin = hz / _F_SP
    log = _MIN_LOG_MEL + np.log(np.maximum(hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(hz >= _MIN_LOG_HZ, log, lin)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    """Inverse of ``hz_to_mel``."""
    mel = np.asarray(mel, dtype=np.float64)
    lin = mel * _F_SP
    log = _MIN_LOG_HZ * np.exp(_LOGSTEP * (np.maximum(mel, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return np.where(mel >= _MIN_LOG_MEL, log, lin)


def mel_filterbank(sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS,
                   fmin: float = FMIN, fmax: float | None = FMAX) -> np.ndarray:
    """Triangular Slaney-normalised mel filters, shape [n_mels, n_fft // 2 + 1], float64.

    Filter m rises linearly from edge m to edge m+1 and falls to edge m+2, where the n_mels + 2
    edges are equally spaced in mel between fmin and fmax; its height is 2 / (edge m+2 - edge m)
    in Hz so every filter has unit area.
    """
    fmax = sr / 2.0 if fmax is None else fmax
    bins = np.linspace(0.0, sr / 2.0, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    width = np.diff(edges)
    rise = (bins[None, :] - edges[:-2, None]) / width[:-1, None]
    fall = (edges[2:, None] - bins[None, :]) / width[1:, None]
    tri = np.maximum(0.0, np.minimum(rise, fall))
    return tri * (2.0 / (edges[2:] - edges[:-2]))[:, None]


def window(n_fft: int = N_FFT, win_length: int = WIN_LENGTH) -> np.ndarray:
    """Periodic Hann of ``win_length`` zero-padded (centred) to ``n_fft``."""
    n = np.arange(win_length)
    hann = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / win_length)
    left = (n_fft - win_length) // 2
    out = np.zeros(n_fft)
    out[left:left + win_length] = hann
    return out


def frames(audio: np.ndarray, hop: int = HOP, n_fft: int = N_FFT) -> np.ndarray:
    """The [len(audio)//hop, n_fft] analysis frames, aligned as described in the module doc."""
    audio = np.asarray(audio, dtype=np.float64)
    count = len(audio) // hop
    left = n_fft // 2 - hop // 2
    padded = np.zeros(left + count * hop + n_fft)
    padded[left:left + len(audio)] = audio
    idx = np.arange(count)[:, None] * hop + np.arange(n_fft)[None, :]
    return padded[idx]


def magnitude(audio: np.ndarray, hop: int = HOP, n_fft: int = N_FFT,
              win_length: int = WIN_LENGTH) -> np.ndarray:
    """|STFT| with the aligned frames, shape [n_frames, n_fft // 2 + 1], float64."""
    return np.abs(np.fft.rfft(frames(audio, hop, n_fft) * window(n_fft, win_length), axis=1))


def mel_spectrogram(audio: np.ndarray, sr: int = SAMPLE_RATE, hop: int = HOP,
                    n_fft: int = N_FFT, win_length: int = WIN_LENGTH,
                    n_mels: int = N_MELS) -> np.ndarray:
    """Linear-amplitude mel spectrogram [n_frames, n_mels], float64."""
    fb = mel_filterbank(sr, n_fft, n_mels)
    return magnitude(audio, hop, n_fft, win_length) @ fb.T


def log_mel(audio: np.ndarray, sr: int = SAMPLE_RATE, hop: int = HOP, n_fft: int = N_FFT,
            win_length: int = WIN_LENGTH, n_mels: int = N_MELS) -> np.ndarray:
    """ln(max(mel, 1e-5)) of float audio in [-1, 1]: [len(audio) // hop, n_mels] float32."""
    mel = mel_spectrogram(audio, sr, hop, n_fft, win_length, n_mels)
    return np.log(np.maximum(mel, LOG_FLOOR)).astype(np.float32)

"""Griffin-Lim vocoder from the log-mel of wncc.features (numpy only).

1. mel -> linear magnitude: non-negative least squares ``min |fb @ S - mel|, S >= 0`` per frame,
   started from the clipped pseudo-inverse and refined with multiplicative (Lee-Seung) updates;
2. "fast" Griffin-Lim (Perraudin et al. 2013, momentum 0.99) with the feature STFT (n_fft 1024,
   win 800, hop 200, same frame alignment), random initial phase from a fixed seed.
"""

from __future__ import annotations

import numpy as np

from wncc import features


def mel_to_magnitude(log_mel: np.ndarray, nnls_iters: int = 50) -> np.ndarray:
    """[F, n_mels] log-mel -> [F, n_fft//2+1] magnitude estimate (>= 0)."""
    mel = np.exp(np.asarray(log_mel, dtype=np.float64))
    fb = features.mel_filterbank(n_mels=mel.shape[1])
    s = np.maximum(mel @ np.linalg.pinv(fb).T, 0.0) + 1e-8  # zeros would stay zero below
    num = mel @ fb
    gram = fb.T @ fb
    for _ in range(nnls_iters):
        s *= num / np.maximum(s @ gram, 1e-12)
    return s


def stft(audio: np.ndarray) -> np.ndarray:
    """Complex STFT [len//hop, n_fft//2+1] with the feature alignment."""
    return np.fft.rfft(features.frames(audio) * features.window(), axis=1)


def istft(spec: np.ndarray) -> np.ndarray:
    """Least-squares inverse of ``stft`` (weighted overlap-add), exactly len(spec)*hop samples."""
    hop, n_fft = features.HOP, features.N_FFT
    win = features.window()
    count = len(spec)
    left = n_fft // 2 - hop // 2
    size = left + count * hop + n_fft
    out, norm = np.zeros(size), np.zeros(size)
    frames = np.fft.irfft(spec, n=n_fft, axis=1) * win
    for f in range(count):
        out[f * hop:f * hop + n_fft] += frames[f]
        norm[f * hop:f * hop + n_fft] += win ** 2
    out /= np.maximum(norm, 1e-8)
    return out[left:left + count * hop]


def griffin_lim(magnitude: np.ndarray, iters: int = 60, seed: int = 0,
                momentum: float = 0.99) -> np.ndarray:
    """Audio whose STFT magnitude approximates ``magnitude`` [F, n_fft//2+1]."""
    rng = np.random.default_rng(seed)
    angles = np.exp(2j * np.pi * rng.random(magnitude.shape))
    prev = np.zeros_like(angles)
    for _ in range(iters):
        rebuilt = stft(istft(magnitude * angles))
        accel = rebuilt - momentum / (1 + momentum) * prev if momentum else rebuilt
        prev = rebuilt
        angles = accel / np.maximum(np.abs(accel), 1e-12)
    return np.clip(istft(magnitude * angles), -1.0, 1.0)


def vocode(log_mel: np.ndarray, iters: int = 60, seed: int = 0) -> np.ndarray:
    """[F, n_mels] log-mel -> F * hop samples of float audio."""
    return griffin_lim(mel_to_magnitude(log_mel), iters, seed)

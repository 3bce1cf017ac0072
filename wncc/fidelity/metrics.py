"""Objective metrics for vocoder output (16 kHz mono float audio in [-1, 1]).

Signals are compared sample-aligned; the longer one is truncated to the shorter. Higher is better
for PESQ (wide-band MOS-LQO, 1.04..4.64), STOI (0..1) and SNR; lower is better for the
log-spectral distance (dB), the mel-cepstral distortion (dB) and the NLL (bits/sample).
"""

from __future__ import annotations

import math

import numpy as np

from wncc import features

SAMPLE_RATE = 16000


def nll_bits(logits: np.ndarray, targets: np.ndarray) -> float:
    """Teacher-forced negative log-likelihood in bits/sample.

    ``logits`` [classes, T] or [1, classes, T] (the vocoder's output), ``targets`` int [T] or [1, T].
    """
    z = np.asarray(logits, dtype=np.float64).reshape(-1, np.shape(logits)[-1])
    t = np.asarray(targets).reshape(-1)
    if z.shape[1] != t.shape[0]:
        raise ValueError(f"logits cover {z.shape[1]} samples, targets {t.shape[0]}")
    zmax = z.max(axis=0)
    lse = zmax + np.log(np.exp(z - zmax).sum(axis=0))
    nll = lse - z[t, np.arange(len(t))]
    return float(nll.mean() / math.log(2.0))


def _pair(ref: np.ndarray, deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = min(len(ref), len(deg))
    return np.asarray(ref, np.float64)[:n], np.asarray(deg, np.float64)[:n]


def snr_db(ref: np.ndarray, deg: np.ndarray) -> float:
    """10 log10(|ref|^2 / |ref - deg|^2); +inf for identical signals."""
    r, d = _pair(ref, deg)
    err = float(((r - d) ** 2).sum())
    return math.inf if err == 0.0 else 10.0 * math.log10(float((r ** 2).sum()) / err)


def pesq_wb(ref: np.ndarray, deg: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    """ITU-T P.862.2 wide-band PESQ (``pesq`` package); NaN if PESQ finds no speech."""
    from pesq import pesq

    r, d = _pair(ref, deg)
    try:
        return float(pesq(sr, r, d, "wb"))
    except Exception:  # pesq raises NoUtterancesError / BufferTooShortError on odd inputs
        return math.nan


def stoi(ref: np.ndarray, deg: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    """Short-time objective intelligibility (``pystoi``)."""
    from pystoi import stoi as _stoi

    r, d = _pair(ref, deg)
    return float(_stoi(r, d, sr, extended=False))


def active_frames(ref: np.ndarray, range_db: float = 50.0) -> np.ndarray:
    """Boolean mask of the feature frames whose energy is within ``range_db`` of the loudest
    frame of ``ref``: the spectral distances ignore (near-)silence, where any tiny difference
    (mu-law's DC offset, dither) would otherwise dominate a log-domain average."""
    energy = (features.magnitude(ref) ** 2).sum(axis=1)
    if len(energy) == 0 or energy.max() == 0.0:
        return np.zeros(len(energy), dtype=bool)
    return energy >= energy.max() * 10.0 ** (-range_db / 10.0)


def _floored_log(x: np.ndarray, range_db: float) -> np.ndarray:
    """ln(x) with x floored ``range_db`` (amplitude dB) below its own maximum, so that a pure
    gain change is a constant offset and bins far below the signal's peak do not dominate."""
    floor = max(float(x.max()) * 10.0 ** (-range_db / 20.0), 1e-12)
    return np.log(np.maximum(x, floor))


def log_spectral_distance(ref: np.ndarray, deg: np.ndarray, range_db: float = 60.0) -> float:
    """Mean over active frames of the RMS over FFT bins of 20 log10(|X_ref| / |X_deg|), in dB.

    Magnitudes use the feature STFT (n_fft 1024, 50 ms Hann, hop 200), each signal floored at
    ``range_db`` below its strongest bin.
    """
    r, d = _pair(ref, deg)
    active = active_frames(r)
    if not active.any():
        return math.nan
    lr = _floored_log(features.magnitude(r)[active], range_db)
    ld = _floored_log(features.magnitude(d)[active], range_db)
    diff = 20.0 / math.log(10.0) * (lr - ld)
    return float(np.sqrt((diff ** 2).mean(axis=1)).mean())


def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II, rows = cepstral coefficients."""
    k = np.arange(n)[:, None]
    m = np.arange(n)[None, :]
    mat = np.cos(np.pi * k * (2 * m + 1) / (2 * n)) * math.sqrt(2.0 / n)
    mat[0] /= math.sqrt(2.0)
    return mat


def mel_cepstral_distortion(ref: np.ndarray, deg: np.ndarray, n_ceps: int = 24,
                            range_db: float = 60.0) -> float:
    """MCD in dB from the DCT of the 80-bin log-mel (MFCC-style cepstra, c0 excluded, so gain
    does not count): mean over active frames of (10 / ln 10) sqrt(2 sum_{d=1..n_ceps}
    (c_d - c'_d)^2); each mel spectrogram floored ``range_db`` below its own maximum."""
    r, d = _pair(ref, deg)
    active = active_frames(r)
    if not active.any():
        return math.nan
    lr = _floored_log(features.mel_spectrogram(r)[active], range_db)
    ld = _floored_log(features.mel_spectrogram(d)[active], range_db)
    dct = _dct_matrix(lr.shape[1])[1:n_ceps + 1]
    diff = (lr - ld) @ dct.T
    return float((10.0 / math.log(10.0) * np.sqrt(2.0 * (diff ** 2).sum(axis=1))).mean())


def metrics(ref: np.ndarray, deg: np.ndarray, sr: int = SAMPLE_RATE) -> dict[str, float]:
    """All audio metrics of one candidate against the reference."""
    return {"pesq_wb": pesq_wb(ref, deg, sr), "stoi": stoi(ref, deg, sr),
            "lsd_db": log_spectral_distance(ref, deg), "mcd_db": mel_cepstral_distortion(ref, deg),
            "snr_db": snr_db(ref, deg)}


def fidelity_table(reference_audio: np.ndarray, candidates: dict[str, np.ndarray],
                   sr: int = SAMPLE_RATE) -> dict[str, dict[str, float]]:
    """``{candidate name: {metric: value}}`` for every candidate against the reference.

    Add ``wncc.fidelity.baselines(reference_audio)`` to ``candidates`` for the mu-law ceiling and
    the Griffin-Lim floor.
    """
    return {name: metrics(reference_audio, audio, sr) for name, audio in candidates.items()}

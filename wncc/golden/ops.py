"""The golden model's ops on float32 arrays shaped (channels, n): n = 1 when streaming, n = T when
running a whole teacher-forced sequence. Accumulation order is part of the specification:
bias first, then taps from oldest to newest, input channels in ascending order; each product and
each sum is rounded to float32 (exactly what the reference C loops compute)."""

from __future__ import annotations

import numpy as np

from wncc.arith import mathf

F = np.float32


def conv_taps(w: np.ndarray, b: np.ndarray, taps: list[np.ndarray]) -> np.ndarray:
    """y = b + sum_k sum_i w[:, i, k] * taps[k][i] ; w [Cout, Cin, K], taps K x (Cin, n)."""
    n = taps[0].shape[1]
    acc = np.repeat(b.astype(F)[:, None], n, axis=1)
    for k, tap in enumerate(taps):
        wk = np.ascontiguousarray(w[:, :, k].T)  # (Cin, Cout)
        for i in range(tap.shape[0]):
            acc += wk[i][:, None] * tap[i][None, :]
    return acc


def convt_table(w: np.ndarray, b: np.ndarray, mel: np.ndarray) -> np.ndarray:
    """Upsampling table rows (hop, Cout): b + sum_i w[i, :, p] * mel[i]; w [Cin, Cout, hop]."""
    cin, cout, hop = w.shape
    acc = np.repeat(b.astype(F)[None, :], hop, axis=0)
    for i in range(cin):
        acc += w[i].T * mel[i]
    return acc


def gate(a: np.ndarray, half: int, tanh_at: int, sigmoid_at: int) -> np.ndarray:
    return mathf.tanh(a[tanh_at:tanh_at + half]) * mathf.sigmoid(a[sigmoid_at:sigmoid_at + half])


def relu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, F(0)).astype(F)

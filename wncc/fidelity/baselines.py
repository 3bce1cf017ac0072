"""Reference points for a vocoder's fidelity table.

* ``mulaw``: the ground truth through mu-law encode/decode, the best any 256-class vocoder can do
  (its "ceiling");
* ``griffin_lim``: phase reconstruction from the same log-mel the vocoder sees, no learning (a
  floor a trained vocoder should beat on PESQ/STOI).
"""

from __future__ import annotations

import numpy as np

from wncc import features, mulaw
from wncc.fidelity.griffin_lim import vocode


def mulaw_roundtrip(audio: np.ndarray) -> np.ndarray:
    return mulaw.decode(mulaw.encode(audio))


def baselines(audio: np.ndarray, mel: np.ndarray | None = None, gl_iters: int = 60,
              seed: int = 0) -> dict[str, np.ndarray]:
    """``{"mulaw": ..., "griffin_lim": ...}`` for float audio; ``mel`` defaults to its log-mel."""
    mel = features.log_mel(audio) if mel is None else mel
    return {"mulaw": mulaw_roundtrip(audio), "griffin_lim": vocode(mel, gl_iters, seed)}

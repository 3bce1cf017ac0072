"""Accuracy mode: score LoadGen's accuracy log, and the MLPerf 99 % rule for compressed models.

LoadGen's ``mlperf_log_accuracy.json`` holds every sample's response once: the int16 PCM the C
generated for QSL sample ``qsl_idx``. Scored against the sample's reference audio:

* ``nll_bits``: teacher-forced NLL (bits/sample) of the reference through the same compiled C
  (``CModel.teacher_forced``, logits dequantized for integer models), pooled over all samples;
  deterministic, the primary metric;
* ``pesq_wb``, ``stoi``, ``lsd_db``, ``mcd_db`` of the generated audio against the reference, the
  mean over samples of the finite values (``wncc.fidelity.metrics``; PESQ-WB and STOI need the
  ``fidelity`` extras and are left out without them). Generated audio is sampled, so these move
  with the sampling path as well as with the model.

The rule: a compressed model passes at 99 % (99.9 %) when its score is at least 0.99 (0.999) of
the fp32 model's. The fraction is taken so that higher is better: ``fp32 / model`` for the
lower-is-better metrics (NLL, LSD, MCD), ``model / fp32`` for the higher-is-better ones (PESQ,
STOI). The verdict is the NLL's; the audio metrics' fractions are reported beside it. ``wncc
study`` judges its rows by the same rule (``fraction``, ``verdicts``).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

from wncc.errors import WnccError
from wncc.mlperf.qsl import Library

LOWER_IS_BETTER = {"nll_bits": True, "pesq_wb": False, "stoi": False, "lsd_db": True,
                   "mcd_db": True}
PRIMARY = "nll_bits"
THRESHOLDS = {"99%": 0.99, "99.9%": 0.999}


def read_log(path: Path) -> dict[int, np.ndarray]:
    """{QSL index: int16 PCM} from LoadGen's accuracy log."""
    try:
        entries = json.loads(path.read_text())
        return {int(e["qsl_idx"]): np.frombuffer(bytes.fromhex(e["data"]), "<i2")
                for e in entries}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WnccError(f"cannot read LoadGen's accuracy log: {exc}", path=str(path)) from None


def extras_installed() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("pesq", "pystoi"))


def _audio_metrics(ref: np.ndarray, deg: np.ndarray, extras: bool) -> dict[str, float]:
    from wncc.fidelity import metrics

    out = {"lsd_db": metrics.log_spectral_distance(ref, deg),
           "mcd_db": metrics.mel_cepstral_distortion(ref, deg)}
    if extras:
        out.update(pesq_wb=metrics.pesq_wb(ref, deg), stoi=metrics.stoi(ref, deg))
    return out


def score(log: Path, library: Library, project: Path) -> dict:
    """Scores of the responses in ``log`` (see the module doc)."""
    from wncc.fidelity.evaluate import logit_dequantizer
    from wncc.fidelity.metrics import nll_bits
    from wncc.harness import CModel

    responses = read_log(log)
    if not responses:
        raise WnccError("LoadGen's accuracy log is empty", path=str(log))
    library.load(sorted(responses))
    c, dequantize = CModel(project), logit_dequantizer(project)
    extras = extras_installed()
    bits, samples, per_metric = 0.0, 0, {k: [] for k in LOWER_IS_BETTER if k != PRIMARY}
    for idx in sorted(responses):
        u = library[idx]
        bits += nll_bits(dequantize(c.teacher_forced(u.x, u.mel)).T, u.target) * len(u.target)
        samples += len(u.target)
        for k, v in _audio_metrics(u.audio, responses[idx] / 32768.0, extras).items():
            if np.isfinite(v):
                per_metric[k].append(v)
    out: dict = {"samples_scored": len(responses), "audio_samples": samples,
                 PRIMARY: bits / samples}
    out.update({k: float(np.mean(v)) if v else None for k, v in per_metric.items()})
    out["fidelity_extras"] = extras
    return out


def fraction(metric: str, model: float, reference: float) -> float:
    """The model's score as a fraction of the reference's, higher is better."""
    return reference / model if LOWER_IS_BETTER[metric] else model / reference


def verdicts(fraction_of_reference: float) -> dict[str, str]:
    """PASS or FAIL at each threshold of the rule."""
    return {name: "PASS" if fraction_of_reference >= t else "FAIL"
            for name, t in THRESHOLDS.items()}


def verdict(scores: dict, reference: dict) -> dict:
    """Per metric: the fraction of the fp32 reference and PASS/FAIL at 99 % and 99.9 %; the
    verdict is the primary metric's."""
    per = {}
    for metric in LOWER_IS_BETTER:
        m, r = scores.get(metric), reference.get(metric)
        if m is None or r is None or m == 0 or r == 0:
            continue
        f = fraction(metric, m, r)
        per[metric] = {"model": m, "fp32": r, "fraction": f, **verdicts(f)}
    if PRIMARY not in per:
        raise WnccError("no NLL to compare with the reference")
    return {"primary": PRIMARY, "metrics": per,
            **{name: per[PRIMARY][name] for name in THRESHOLDS}}

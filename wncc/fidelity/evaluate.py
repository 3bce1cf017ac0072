"""Evaluate a compiled vocoder on held-out speech against the mu-law ceiling and Griffin-Lim.

For every utterance (the first ``utterances`` of the data, each cut to its first ``seconds``,
rounded down to whole hops):

* ``mel = wncc.features.log_mel(audio)`` of the excerpt, exactly ``len(audio) // hop`` frames; the
  ground truth is those ``frames * hop`` samples;
* **model**: the compiled C (``wncc.harness.CModel``) free-running over ``mel``
  (``vocode(mel, seed + i, temperature)`` for utterance ``i``); its classes are decoded with
  ``wncc.mulaw.decode`` (the C's int16 PCM is the same up to 1/32767), so a model that emitted the
  true classes would score exactly the ceiling. Teacher-forced NLL in bits/sample from the C's
  logits (dequantized as ``WN_LOGIT_SCALE * (q - WN_LOGIT_ZERO_POINT)`` for integer models) with
  input ``x = [128] + mulaw.encode(audio[:-1])`` against ``mulaw.encode(audio)``;
* **ceiling**: ``mulaw.decode(mulaw.encode(audio))``, the best any 256-class vocoder can do;
* **griffin_lim**: ``wncc.fidelity.griffin_lim.vocode(mel, gl_iters, GL_SEED)`` from the same mel
  (its initial phase has a seed of its own, so the baselines do not move with ``seed``);
* audio metrics of each against the ground truth (``wncc.fidelity.metrics.metrics``): PESQ-WB,
  STOI, LSD, MCD, SNR.

Summary: the NLL is pooled over all samples (total bits / total samples); each audio metric is the
mean over utterances of its finite values (PESQ is NaN when it finds no speech; such utterances are
counted in ``missing``). NLL has no meaning for the two baselines (they are reconstructions, not
probability models); ``unigram_bits``, the entropy of the evaluated mu-law classes, is the NLL of
the best context-free model and the reference for the model's NLL.

The result is a plain dict (JSON-ready, non-finite values as ``None``) with no timestamps or
temporary paths, so a fixed seed gives an identical result.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from wncc import features, mulaw
from wncc.audio import SAMPLE_RATE, read_wav, wav_sources
from wncc.errors import WnccError
from wncc.fidelity import griffin_lim, metrics

SCHEMA = "wncc-fidelity/1"
ROWS = ("ceiling", "griffin_lim", "model")
ROW_LABELS = {"ceiling": "mu-law ceiling", "griffin_lim": "Griffin-Lim", "model": "model"}
METRICS = ("pesq_wb", "stoi", "lsd_db", "mcd_db", "snr_db")
DEFAULT_UTTERANCES = 20
DEFAULT_SECONDS = 3.0
DEFAULT_GL_ITERS = 60
GL_SEED = 0


@dataclass(frozen=True)
class Utterance:
    """One evaluation excerpt: ``audio`` float64 [T] (T = frames * hop), ``mel`` float32
    [frames, n_mels], teacher-forcing input ``x`` and ``target`` classes, int64 [T]."""

    name: str
    audio: np.ndarray
    mel: np.ndarray
    x: np.ndarray
    target: np.ndarray


# ---------------------------------------------------------------------------------- data


def data_files(data: str | Path, split: str = "test") -> list[tuple[str, Path]]:
    """(name, wav path) of an evaluation source, in evaluation order, never empty."""
    return wav_sources(data, split, "evaluation")


def utterance(name: str, audio: np.ndarray, hop: int = features.HOP) -> Utterance:
    """Features and classes of one excerpt (truncated to whole hops)."""
    frames = len(audio) // hop
    audio = np.asarray(audio, np.float64)[: frames * hop]
    mel = features.log_mel(audio, hop=hop)
    target = mulaw.encode(audio)
    x = np.concatenate([[mulaw.SILENCE], target[:-1]]).astype(np.int64)
    return Utterance(name, audio, mel, x, target)


def load_utterances(data: str | Path, split: str = "test", utterances: int | None = None,
                    seconds: float | None = None, hop: int = features.HOP) -> list[Utterance]:
    """The first ``utterances`` (None or 0: all) of the data, each cut to its first ``seconds``
    (None or 0: whole), rounded down to whole hops; files shorter than one hop are skipped."""
    if utterances is not None and utterances < 0:
        raise WnccError(f"--utterances must be >= 0, got {utterances}")
    if seconds is not None and seconds < 0:
        raise WnccError(f"--seconds must be >= 0, got {seconds}")
    out = []
    for name, path in data_files(data, split):
        if utterances and len(out) >= utterances:
            break
        audio = read_wav(path, "evaluation")
        if seconds:
            audio = audio[: int(seconds * SAMPLE_RATE) // hop * hop]
        if len(audio) >= hop:
            out.append(utterance(name, audio, hop))
    if not out:
        raise WnccError(f"no utterance of at least {hop} samples in the evaluation data",
                        path=str(data))
    return out


# ---------------------------------------------------------------------------------- model


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _header_value(header: str, name: str) -> str | None:
    for line in header.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "#define" and parts[1] == name:
            return parts[2]
    return None


def logit_dequantizer(project: Path) -> Callable[[np.ndarray], np.ndarray]:
    """Logits of the C (float32, or int8/int16 quantized values) -> real float64 logits."""
    header = (Path(project) / "wn_model.h").read_text()
    scale = _header_value(header, "WN_LOGIT_SCALE")
    if scale is None:
        return lambda z: np.asarray(z, np.float64)
    scale_f = float(scale.rstrip("fF"))
    zero = int(_header_value(header, "WN_LOGIT_ZERO_POINT") or 0)
    return lambda q: scale_f * (np.asarray(q, np.float64) - zero)


def model_dtype(model: str | Path) -> str:
    """fp32, or the integer precision of a quantized (QDQ) ONNX model."""
    from wncc.passes import qprepare
    from wncc.pipeline import load

    graph = load(model)
    return qprepare.precision(graph)


def _project_info(project: Path) -> dict:
    header = (project / "wn_model.h").read_text()
    dtype = _header_value(header, "WN_ARITHMETIC")
    return {"dtype": dtype.strip('"') if dtype else "fp32"}


def open_model(model: str | Path, work_dir: Path, dtype: str = "auto",
               progress: Callable[[str], None] = lambda _: None):
    """(CModel, logit dequantizer, info) for an ONNX file (compiled into ``work_dir``) or a
    compiled project folder."""
    from wncc.compiler import compile_model
    from wncc.harness import CModel

    src = Path(model)
    if not src.exists():
        raise WnccError("model not found", path=str(src))
    if src.is_dir():
        if not (src / "wn_model.h").exists():
            raise WnccError("not a wncc project folder (no wn_model.h)", path=str(src))
        project = src
        info = {"name": src.name, "kind": "project", **_project_info(src)}
        digest = hashlib.sha256()
        for f in sorted(src.glob("wn_*.[ch]")):
            digest.update(f.name.encode() + b"\0" + f.read_bytes())
        info["sha256"] = digest.hexdigest()
    else:
        progress("compiling")
        if dtype == "auto":
            dtype = model_dtype(src)
        _, project = compile_model(src, work_dir / "project", dtype=dtype,
                                   command=f"wncc fidelity {src.name}")
        info = {"name": src.name, "kind": "onnx", "dtype": dtype, "sha256": _sha256(src)}
    progress("building the C")
    c = CModel(project)
    if c.scalar or not c.categorical or c.outputs != 256:
        raise WnccError("fidelity scores 256 mu-law classes fed back as classes; this model "
                        "samples another distribution or takes the previous sample's value",
                        path=str(src))
    if c.n_mels != features.N_MELS or c.hop != features.HOP:
        raise WnccError(f"the model takes {c.n_mels} mel bins at hop {c.hop}; the evaluation "
                        f"features are {features.N_MELS} bins at hop {features.HOP}",
                        path=str(src))
    info["hop"] = c.hop
    info["logits"] = str(c.logit_dtype)
    return c, logit_dequantizer(project), info


# ---------------------------------------------------------------------------------- evaluation


def _finite(v: float) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


def _audio_metrics(ref: np.ndarray, deg: np.ndarray) -> dict[str, float | None]:
    return {k: _finite(v) for k, v in metrics.metrics(ref, deg).items()}


def unigram_bits(classes: np.ndarray, n: int = 256) -> float:
    """Entropy (bits) of the class histogram: the NLL of the best context-free model."""
    p = np.bincount(np.asarray(classes, np.int64), minlength=n) / len(classes)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def summarize(per_utt: list[dict]) -> dict[str, dict]:
    """Pooled NLL and utterance-mean audio metrics for every row (see the module doc)."""
    total = sum(u["samples"] for u in per_utt)
    out = {}
    for row in ROWS:
        s: dict[str, object] = {}
        nll = [u[row].get("nll_bits") for u in per_utt]
        s["nll_bits"] = (None if any(v is None for v in nll)
                         else sum(v * u["samples"] for v, u in zip(nll, per_utt)) / total)
        missing = {}
        for k in METRICS:
            vals = [u[row][k] for u in per_utt if u[row][k] is not None]
            s[k] = float(np.mean(vals)) if vals else None
            if len(vals) < len(per_utt):
                missing[k] = len(per_utt) - len(vals)
        s["missing"] = missing
        out[row] = s
    return out


def evaluate(model: str | Path, data: str | Path, split: str = "test",
             utterances: int | None = DEFAULT_UTTERANCES, seconds: float | None = DEFAULT_SECONDS,
             seed: int = 0, temperature: float = 1.0, gl_iters: int = DEFAULT_GL_ITERS,
             dtype: str = "auto", json_path: str | Path | None = None,
             progress: Callable[[str], None] = lambda _: None) -> dict:
    """Evaluate ``model`` (ONNX file or compiled project folder) on ``data``; see the module doc.

    Returns the result dict and, if ``json_path`` is given, writes it there as JSON."""
    if not (temperature >= 0 and math.isfinite(temperature)):
        raise WnccError(f"--temperature must be a finite number >= 0, got {temperature}")
    if seed < 0:
        raise WnccError(f"--seed must be >= 0, got {seed}")
    if gl_iters < 0:
        raise WnccError(f"Griffin-Lim iterations must be >= 0, got {gl_iters}")
    if json_path is not None:  # fail before the long part, not after it
        try:
            Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WnccError(f"cannot write JSON: {exc.strerror or exc}",
                            path=str(json_path)) from None
    utts = load_utterances(data, split, utterances, seconds)
    with tempfile.TemporaryDirectory(prefix="wncc-fidelity-") as tmp:
        c, dequantize, info = open_model(model, Path(tmp), dtype, progress)
        per_utt = []
        for i, u in enumerate(utts):
            tag = f"{i + 1}/{len(utts)} {u.name} ({len(u.audio)} samples)"
            progress(f"{tag}: generating")
            classes, _pcm = c.vocode(u.mel, seed=seed + i, temperature=temperature)
            generated = mulaw.decode(classes)
            progress(f"{tag}: teacher forcing")
            logits = dequantize(c.teacher_forced(u.x, u.mel))
            nll = metrics.nll_bits(logits.T, u.target)
            progress(f"{tag}: Griffin-Lim")
            gl = griffin_lim.vocode(u.mel, gl_iters, GL_SEED)
            progress(f"{tag}: metrics")
            per_utt.append({
                "name": u.name, "samples": int(len(u.audio)),
                "ceiling": {"nll_bits": None,
                            **_audio_metrics(u.audio, mulaw.decode(u.target))},
                "griffin_lim": {"nll_bits": None, **_audio_metrics(u.audio, gl)},
                "model": {"nll_bits": nll, **_audio_metrics(u.audio, generated)},
            })
    samples = sum(u["samples"] for u in per_utt)
    result = {
        "schema": SCHEMA,
        "model": info,
        "data": {"source": Path(data).name, "split": split if Path(data).is_dir() and
                 (Path(data) / "manifest.json").exists() else None,
                 "max_utterances": utterances or None, "max_seconds": seconds or None,
                 "utterances": len(per_utt), "samples": samples,
                 "seconds": samples / SAMPLE_RATE},
        "settings": {"seed": seed, "temperature": temperature, "griffin_lim_iters": gl_iters,
                     "griffin_lim_seed": GL_SEED,
                     "sample_rate": SAMPLE_RATE},
        "unigram_bits": unigram_bits(np.concatenate([u.target for u in utts])),
        "summary": summarize(per_utt),
        "utterances": per_utt,
    }
    if json_path is not None:
        write_json(result, json_path)
    return result


def write_json(result: dict, path: str | Path) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
        tmp.replace(path)
    except OSError as exc:
        raise WnccError(f"cannot write JSON: {exc.strerror or exc}", path=str(path)) from None


# ---------------------------------------------------------------------------------- tables

# (key, markdown title, short title for terminals, decimals)
COLUMNS = (("nll_bits", "NLL (bits/sample) ↓", "NLL bits ↓", 3),
           ("pesq_wb", "PESQ-WB ↑", "PESQ ↑", 2),
           ("stoi", "STOI ↑", "STOI ↑", 3),
           ("lsd_db", "LSD (dB) ↓", "LSD dB ↓", 2),
           ("mcd_db", "MCD (dB) ↓", "MCD dB ↓", 2))


def fmt(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table_rows(results: dict[str, dict]) -> list[tuple[str, list[str]]]:
    """(label, cells) rows: the two baselines from the first result, then one row per model.

    ``results`` maps a model label to its ``evaluate`` result; all should cover the same
    utterances (the baselines do not depend on the model)."""
    first = next(iter(results.values()))
    rows = []
    for row in ("ceiling", "griffin_lim"):
        rows.append((ROW_LABELS[row], [fmt(first["summary"][row][k], d) for k, _, _, d in COLUMNS]))
    for label, res in results.items():
        rows.append((label, [fmt(res["summary"]["model"][k], d) for k, _, _, d in COLUMNS]))
    return rows


def markdown_table(results: dict[str, dict]) -> str:
    """The fidelity table as GitHub markdown (see ``table_rows``)."""
    head = "| | " + " | ".join(title for _, title, _, _ in COLUMNS) + " |"
    sep = "|---|" + "---:|" * len(COLUMNS)
    body = [f"| {label} | " + " | ".join(cells) + " |" for label, cells in table_rows(results)]
    return "\n".join([head, sep, *body])


__all__ = ["Utterance", "data_files", "evaluate", "load_utterances", "markdown_table",
           "open_model", "summarize", "table_rows", "unigram_bits", "write_json"]

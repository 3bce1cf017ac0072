"""The compression study: sparsity method x level x precision -> compression ratio, fidelity.

For every model (pruned ONNX exports) and precision the model is quantized if needed (calibrated
on the given audio), compiled for the target with the storage the cost model picks, built, and
run teacher-forced on held-out speech: the report gives the compression ratio (dense fp32 bytes
of the parameters over every stored byte), the storage formats chosen, the C's teacher-forced
negative log-likelihood in bits per sample, and whether the C equals the golden model exactly.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np

from wncc.compiler import compile_model
from wncc.errors import WnccError
from wncc.audio import read_wav
from wncc.fidelity.evaluate import Utterance, utterance
from wncc.fidelity.metrics import nll_bits
from wncc.golden.model import GoldenModel
from wncc.harness import CModel

METHOD_RE = re.compile(r"-(oneshot|iterative)\b")
PATTERN_RE = re.compile(r"-(unstructured|b\d+x\d+)\b")
SPARSITY_RE = re.compile(r"-s(\d+)$")


@dataclasses.dataclass
class Row:
    model: str
    method: str
    pattern: str
    sparsity: float
    dtype: str
    weight_scales: str  # "per-channel" or "per-tensor" (integer precisions), "-" (float)
    compression_ratio: float
    weights_bytes: int
    storage: dict[str, int]
    nll_bits: float
    exact: bool
    seconds: float


def describe(path: Path) -> tuple[str, str, float]:
    """(method, pattern, sparsity) from a pruned model's file name, e.g.
    tiny-iterative-b4x4-layer-s90.onnx; unpruned models are ('dense', '-', 0)."""
    method, pattern = METHOD_RE.search(path.stem), PATTERN_RE.search(path.stem)
    sparsity = SPARSITY_RE.search(path.stem)
    if not (method and pattern and sparsity):
        return "dense", "-", 0.0
    return method[1], pattern[1], int(sparsity[1]) / 100


def real_logits(c: CModel, graph, logits: np.ndarray) -> np.ndarray:
    q = graph.tensors[graph.output].quant
    return logits if q is None else q.scale * (logits.astype(np.float64) - q.zero_point)


def study_one(model: Path, dtype: str, utt: Utterance, calib: Path, target: str,
              workdir: Path, per_channel: bool = True) -> Row:
    start = time.monotonic()
    source, scales = model, "-"
    if dtype not in ("fp32", "fp16", "bf16"):
        from wncc.quant.quantize import quantize
        source = quantize(model, dtype, calib, workdir / f"{model.stem}-{dtype}.onnx",
                          per_channel=per_channel)
        scales = "per-channel" if per_channel else "per-tensor"
    graph, project = compile_model(source, workdir / f"{model.stem}-{dtype}", target=target,
                                   dtype=dtype)
    report = json.loads((project / "report.json").read_text())
    c = CModel(project)
    logits = c.teacher_forced(utt.x, utt.mel)
    exact = bool(np.array_equal(logits, GoldenModel(graph).teacher_forced(utt.x, utt.mel)))
    storage = Counter(layer["storage"] for layer in report["layers"]
                      if layer["op"] in ("conv", "conv_ring"))
    method, pattern, sparsity = describe(model)
    return Row(model.stem, method, pattern, sparsity, dtype, scales, report["compression_ratio"],
               report["weights_bytes"], dict(storage),
               round(nll_bits(real_logits(c, graph, logits).T, utt.target), 4), exact,
               round(time.monotonic() - start, 1))


def run(models: list[Path], dtypes: list[str], audio: Path, calib: Path | None = None,
        target: str = "host", seconds: float = 2.0,
        progress: Callable[[str], None] = lambda _: None, per_channel: bool = True) -> list[Row]:
    if not models:
        raise WnccError("no models to study")
    wav = read_wav(audio)
    hop = 200
    n = min(wav.size, int(seconds * 16000)) // hop * hop
    if n == 0:
        raise WnccError("evaluation audio is shorter than one frame", path=str(audio))
    utt = utterance(audio.stem, wav[:n])
    rows = []
    with tempfile.TemporaryDirectory(prefix="wncc-study-") as tmp:
        for model in models:
            for dtype in dtypes:
                progress(f"{model.name} {dtype}")
                rows.append(study_one(model, dtype, utt, calib or audio, target, Path(tmp),
                                      per_channel))
    return rows


def markdown(rows: list[Row]) -> str:
    lines = ["| model | method | pattern | sparsity | dtype | weight scales | compression | storage | "
             "NLL bits | C = golden |",
             "|---|---|---|---:|---|---|---:|---|---:|---|"]
    for r in rows:
        storage = ", ".join(f"{k} x{v}" for k, v in sorted(r.storage.items()))
        lines.append(f"| {r.model} | {r.method} | {r.pattern} | {100 * r.sparsity:.0f}% | {r.dtype} | "
                     f"{r.weight_scales} | "
                     f"{r.compression_ratio:.2f}x | {storage} | {r.nll_bits:.3f} | "
                     f"{'yes' if r.exact else 'NO'} |")
    return "\n".join(lines)

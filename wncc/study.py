"""The compression study: sparsity method x level x precision -> compression ratio, fidelity.

For every model (pruned ONNX exports) and precision the model is quantized if needed (calibrated
on the given audio), compiled for the target with the storage the cost model picks, built, and
run teacher-forced on held-out speech: the report gives the compression ratio (dense fp32 bytes
of the parameters over every stored byte), the storage formats chosen, the C's teacher-forced
negative log-likelihood in bits per sample, and whether the C equals the golden model exactly.

Quality is judged by the MLPerf rule (``wncc.mlperf.accuracy``): a row's quality is its NLL as a
fraction of the fp32 reference's, ``reference / row`` (higher is better), and it passes at 99 %
(99.9 %) when that is at least 0.99 (0.999). The reference is the dense model's fp32 NLL on the
same audio: the first model of the list that ``describe`` calls dense, or the one given. The
headline: per threshold, the largest compression of a row that passes.

Each (model, precision) variant is compiled and run in a temporary folder of its own, so the
variants can run in parallel processes, or as tasks on a Ray cluster (the ``cluster`` extra); the
rows are the same either way (all but ``seconds``).
Asked for speech (the report, ``wncc.study_report``), each variant's C also generates audio there,
sampled from the scored excerpt's mel with a fixed seed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import json
import multiprocessing
import re
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from wncc.compiler import compile_model
from wncc.errors import WnccError
from wncc.audio import pcm16, read_wav
from wncc.fidelity.evaluate import Utterance, utterance
from wncc.fidelity.metrics import nll_bits
from wncc.golden.model import GoldenModel
from wncc.harness import CModel
from wncc.mlperf.accuracy import PRIMARY, THRESHOLDS, fraction, verdicts

METHOD_RE = re.compile(r"-(oneshot|iterative)\b")
PATTERN_RE = re.compile(r"-(unstructured|b\d+x\d+)\b")
SPARSITY_RE = re.compile(r"-s(\d+)$")
PLOTS = ("study_quality.png", "study_pareto.png")
SPEECH_SEED = 0  # of the speech each variant's C generates for the report (temperature 1)
PRUNED_FROM = 0.01  # a model whose convolution weights are this share zeros or more is pruned


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
    quality: float | None = None  # the reference's NLL / this NLL; None until judged
    verdict: dict[str, str] = dataclasses.field(default_factory=dict)  # "99%" -> PASS/FAIL


@dataclasses.dataclass
class Speech:
    """What the report plays, int16 PCM at 16 kHz: the scored excerpt of the recording, and what
    the reference's C and each row's C generated from its mel."""

    utterance: str  # the recording's name (its file's stem)
    recording: np.ndarray
    reference: np.ndarray
    rows: list[np.ndarray]


@dataclasses.dataclass
class Study:
    """The rows (models x dtypes, in that order) and the fp32 reference they were judged by."""

    reference: Row
    rows: list[Row]
    speech: Speech | None = None  # with run(..., speech=True); never in the JSON


def describe(path: Path) -> tuple[str, str, float]:
    """(method, pattern, sparsity) from a pruned model's file name, e.g.
    tiny-iterative-b4x4-layer-s90.onnx; a file named otherwise is ('dense', '-', 0) unless its
    convolution weights hold zeros (at least PRUNED_FROM of them): ('pruned', '-', the share)."""
    method, pattern = METHOD_RE.search(path.stem), PATTERN_RE.search(path.stem)
    sparsity = SPARSITY_RE.search(path.stem)
    if method and pattern and sparsity:
        return method[1], pattern[1], int(sparsity[1]) / 100
    zeros = conv_zeros(path) if path.exists() else 0.0
    return ("dense", "-", 0.0) if zeros < PRUNED_FROM else ("pruned", "-", round(zeros, 2))


def conv_zeros(path: Path) -> float:
    """The share of exact zeros among a model's convolution weights (initializers of rank 3)."""
    import onnx
    from onnx import numpy_helper

    zeros = total = 0
    for init in onnx.load(str(path)).graph.initializer:
        if len(init.dims) == 3:
            w = numpy_helper.to_array(init)
            zeros, total = zeros + int(np.count_nonzero(w == 0)), total + w.size
    return zeros / total if total else 0.0


def real_logits(c: CModel, graph, logits: np.ndarray) -> np.ndarray:
    q = graph.tensors[graph.output].quant
    return logits if q is None else q.scale * (logits.astype(np.float64) - q.zero_point)


def study_one(model: Path, dtype: str, utt: Utterance, calib: Path, target: str,
              per_channel: bool = True, speak: bool = False) -> tuple[Row, np.ndarray | None]:
    """One variant, quantized, compiled and built in a temporary folder of its own; with
    ``speak``, also the speech its C generates from the utterance's mel (int16 PCM)."""
    start = time.monotonic()
    source, scales = model, "-"
    with tempfile.TemporaryDirectory(prefix="wncc-study-") as tmp:
        workdir = Path(tmp)
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
        pcm = c.vocode(utt.mel, SPEECH_SEED)[1] if speak else None
    exact = bool(np.array_equal(logits, GoldenModel(graph).teacher_forced(utt.x, utt.mel)))
    storage = Counter(layer["storage"] for layer in report["layers"]
                      if layer["op"] in ("conv", "conv_ring"))
    method, pattern, sparsity = describe(model)
    return Row(model.stem, method, pattern, sparsity, dtype, scales, report["compression_ratio"],
               report["weights_bytes"], dict(storage),
               round(nll_bits(real_logits(c, graph, logits).T, utt.target), 4), exact,
               round(time.monotonic() - start, 1)), pcm


def reference_model(models: list[Path], given: Path | None = None) -> Path:
    """The model whose fp32 NLL the rows are judged by: ``given``, else the first dense one."""
    if given is not None:
        return given
    dense = [m for m in models if describe(m)[0] == "dense"]
    if not dense:
        raise WnccError("no dense model to take the fp32 reference from (a pruned model's name "
                        "ends in -METHOD-PATTERN-...-sNN): add the unpruned model to the list or "
                        "pass --reference MODEL.onnx")
    return dense[0]


def judged(row: Row, reference_nll: float) -> Row:
    """The row with its quality (fraction of the reference's NLL) and PASS/FAIL per threshold."""
    quality = fraction(PRIMARY, row.nll_bits, reference_nll)
    return dataclasses.replace(row, quality=quality, verdict=verdicts(quality))


def _ray_tasks(stack: contextlib.ExitStack, address: str) -> Callable:
    """``study_one`` as a Ray task on the cluster at ``address`` ("local": a Ray instance of
    this machine's cores, started here and shut down afterwards); each call returns the task's
    result getter."""
    try:
        import ray
    except ImportError:
        raise WnccError("--ray needs Ray: pip install 'wncc[cluster]'") from None
    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, include_dashboard=False,
                 log_to_driver=False)
        stack.callback(ray.shutdown)
    task = ray.remote(study_one)
    return lambda *args: functools.partial(ray.get, task.remote(*args))


def measure(variants: list[tuple[Path, str]], utt: Utterance, calib: Path, target: str,
            per_channel: bool, jobs: int, progress: Callable[[str], None], speak: bool = False,
            ray: str | None = None) -> list[tuple[Row, np.ndarray | None]]:
    """``study_one`` of every (model, dtype), in order: in this process, in ``jobs`` spawned
    processes, or as tasks on the Ray cluster at ``ray``."""
    with contextlib.ExitStack() as stack:
        if ray is not None:
            submit = _ray_tasks(stack, ray)
            pending = [submit(m, d, utt, calib, target, per_channel, speak) for m, d in variants]
        elif jobs == 1:
            pending = [functools.partial(study_one, m, d, utt, calib, target, per_channel, speak)
                       for m, d in variants]
        else:
            pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))
            stack.callback(pool.shutdown, cancel_futures=True)  # an error stops what has not begun
            pending = [pool.submit(study_one, m, d, utt, calib, target, per_channel, speak).result
                       for m, d in variants]
        measured = []
        for (model, dtype), result in zip(variants, pending):
            progress(f"{model.name} {dtype}")
            measured.append(result())
        return measured


def run(models: list[Path], dtypes: list[str], audio: Path, calib: Path | None = None,
        target: str = "host", seconds: float = 2.0,
        progress: Callable[[str], None] = lambda _: None, per_channel: bool = True,
        reference: Path | None = None, jobs: int = 1, speech: bool = False,
        ray: str | None = None) -> Study:
    """Every model at every dtype, judged by ``reference`` (default: the first dense model) at
    fp32, which is studied too where fp32 is not among the dtypes; with ``speech``, what each
    one's C generates too (``Study.speech``). ``ray``: run the variants as tasks on that Ray
    cluster (its nodes must read the model and audio paths, e.g. from a shared file system)."""
    if not models:
        raise WnccError("no models to study")
    if jobs < 1:
        raise WnccError(f"--jobs must be >= 1, got {jobs}")
    if ray is not None and jobs > 1:
        raise WnccError("--ray and --jobs both choose where the variants run: give one")
    reference = reference_model(models, reference)
    wav = read_wav(audio)
    hop = 200
    n = min(wav.size, int(seconds * 16000)) // hop * hop
    if n == 0:
        raise WnccError("evaluation audio is shorter than one frame", path=str(audio))
    utt = utterance(audio.stem, wav[:n])
    variants = [(model, dtype) for model in models for dtype in dtypes]
    extra = [] if (reference, "fp32") in variants else [(reference, "fp32")]
    measured = measure(variants + extra, utt, calib or audio, target, per_channel, jobs, progress,
                       speech, ray)
    ref, ref_pcm = dict(zip(variants + extra, measured))[reference, "fp32"]
    rows = measured[:len(variants)]
    return Study(judged(ref, ref.nll_bits), [judged(r, ref.nll_bits) for r, _ in rows],
                 Speech(utt.name, pcm16(utt.audio), ref_pcm, [pcm for _, pcm in rows])
                 if speech else None)


# ------------------------------------------------------------------------------ the headline

def pareto(rows: list[Row]) -> list[Row]:
    """The rows no other row beats (none has at least the compression and at least the quality,
    one of them more; of equal rows the first), by compression ascending: the best quality for a
    given compression."""
    front: list[Row] = []
    for r in sorted(rows, key=lambda r: (-r.compression_ratio, -r.quality)):  # stable
        if not front or r.quality > front[-1].quality:
            front.append(r)
    return front[::-1]


def headline(rows: list[Row]) -> dict[str, Row | None]:
    """Per threshold of the rule: the row of largest compression that passes (of equal
    compressions the best quality, then the first), or None."""
    front = pareto(rows)
    return {name: next((r for r in reversed(front) if r.quality >= t), None)
            for name, t in THRESHOLDS.items()}


def precision(r: Row) -> str:
    """'int8 per-tensor', 'fp32'."""
    return r.dtype if r.weight_scales == "-" else f"{r.dtype} {r.weight_scales}"


def variant(r: Row) -> str:
    """'90% sparsity, iterative b4x4, int8 per-tensor'."""
    pattern = r.method if r.pattern == "-" else f"{r.method} {r.pattern}"
    return f"{100 * r.sparsity:.0f}% sparsity, {pattern}, {precision(r)}"


def summary(study: Study) -> list[str]:
    """The reference and the headline, one line each."""
    ref = study.reference
    lines = [f"reference: {ref.model} at fp32, NLL {ref.nll_bits:.4f} bits/sample"]
    for name, r in headline(study.rows).items():
        best = f"{r.compression_ratio:.2f}x ({variant(r)})" if r else "none"
        lines.append(f"largest compression at >= {name} of fp32 quality: {best}")
    return lines


def to_json(study: Study) -> dict:
    """{"reference": row, "rows": [row, ...], "headline": {"99%": row or None, ...}}."""
    return {"reference": dataclasses.asdict(study.reference),
            "rows": [dataclasses.asdict(r) for r in study.rows],
            "headline": {name: None if r is None else dataclasses.asdict(r)
                         for name, r in headline(study.rows).items()}}


COLUMNS = ("model", "method", "pattern", "sparsity", "dtype", "weight scales", "compression",
           "storage", "NLL bits", "quality (fraction of fp32)", *THRESHOLDS, "C = golden")
NUMERIC = {"sparsity", "compression", "NLL bits", "quality (fraction of fp32)"}  # right-aligned


def cells(r: Row) -> list[str]:
    """The row's text under each of ``COLUMNS``."""
    storage = ", ".join(f"{k} x{v}" for k, v in sorted(r.storage.items()))
    return [r.model, r.method, r.pattern, f"{100 * r.sparsity:.0f}%", r.dtype, r.weight_scales,
            f"{r.compression_ratio:.2f}x", storage, f"{r.nll_bits:.3f}", f"{r.quality:.4f}",
            *(r.verdict[name] for name in THRESHOLDS), "yes" if r.exact else "NO"]


def markdown(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |",
             "|" + "".join("---:|" if c in NUMERIC else "---|" for c in COLUMNS)]
    lines += ["| " + " | ".join(cells(r)) + " |" for r in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ plots

def figure_class() -> type:
    """matplotlib's Figure, drawn by Agg without pyplot (no display, no global backend), or a
    one-line error."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise WnccError("--plots and --report need matplotlib: pip install matplotlib (or "
                        "'wncc[mlperf]', which brings it)") from None
    return Figure


def _axes(title: str):
    """A figure with the axes of both plots: compression (x) against quality (y), and the
    thresholds of the rule as horizontal lines."""
    fig = figure_class()(figsize=(10, 4.5))
    ax = fig.subplots()
    for (name, t), style in zip(THRESHOLDS.items(), ("--", ":")):
        ax.axhline(t, color="grey", linestyle=style, linewidth=1, label=f"{name} of fp32")
    ax.set_xlabel("compression ratio (dense fp32 bytes / stored bytes)")
    ax.set_ylabel("quality (fraction of fp32 NLL)")
    ax.set_title(title, fontsize=10)
    return fig, ax


def _save(fig, ax, path: Path) -> None:
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the axes
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def plot_quality(rows: list[Row], path: Path) -> None:
    """Compression against quality, one marker and colour per precision."""
    fig, ax = _axes("wncc study: compression vs quality by the MLPerf rule")
    series: dict[str, list[Row]] = {}
    for r in rows:
        series.setdefault(precision(r), []).append(r)
    for (name, items), marker in zip(series.items(), itertools.cycle("osD^vPX*")):
        ax.plot([r.compression_ratio for r in items], [r.quality for r in items], marker,
                linestyle="none", label=name)
    _save(fig, ax, path)


def plot_pareto(rows: list[Row], path: Path) -> None:
    """Every row, and the Pareto frontier (the best quality for a given compression), its points
    numbered and named in the legend."""
    fig, ax = _axes("wncc study: Pareto frontier of compression and quality")
    ax.plot([r.compression_ratio for r in rows], [r.quality for r in rows], "o", color="0.75",
            linestyle="none", label="all rows")
    front = pareto(rows)
    ax.step([r.compression_ratio for r in front], [r.quality for r in front], "o-", where="pre",
            color="C3", label="frontier")
    for i, r in enumerate(front, 1):  # numbered on the plot, named in the legend
        ax.annotate(str(i), (r.compression_ratio, r.quality), xytext=(3, 3),
                    textcoords="offset points", fontsize=7)
        ax.plot([], [], linestyle="none",
                label=f"{i}: {r.compression_ratio:.2f}x, {r.quality:.4f}, {variant(r)}")
    _save(fig, ax, path)


def plots(rows: list[Row], folder: Path) -> list[Path]:
    """study_quality.png and study_pareto.png in ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in PLOTS]
    for draw, path in zip((plot_quality, plot_pareto), paths):
        draw(rows, path)
    return paths

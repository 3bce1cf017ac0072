"""Generation speed of one model on this machine: `wncc bench --model M` (no --target).

The model is compiled for every native target this CPU runs (``host``: the reference kernels
with -march=native; ``x86``: AVX2 kernels; ``x86-vnni``: AVX-512 VNNI kernels, packed int8
convolutions) and each C generates the same samples from the same seeded mel and seed; their
outputs must be identical (every build is bit-exact with the golden model, so a difference is a
bug). Beside them, in the same run, ONNX Runtime (one thread) runs the model's own full-sequence
graph on teacher-forced inputs of the same length: a forward pass batched over time, which
autoregressive generation cannot be. Its time per sample is the yardstick the issue's goals are
stated in (C / ORT teacher-forced), because absolute times drift between machines.

For a float model, the peer a user serving it with ONNX Runtime would run is timed too: the
model's one-step graph (wncc/stepgraph.py, what `wncc export-step` writes) called once per sample
with its states fed back, over ``STEP_SAMPLES`` teacher-forced samples; its logits are checked
against the model's full-sequence pass first.

Repeats interleave the peers so that machine noise hits all alike; each peer's best is kept.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from wncc import emulate, stepgraph
from wncc.bench.generate import c_generate, c_generate_batch, random_mel
from wncc.compiler import compile_model
from wncc.errors import WnccError
from wncc.ir import Graph, is_integer
from wncc.passes import lowered
from wncc.pipeline import Ends
from wncc.targets import Target
from wncc.targets import load as load_target
from wncc.verify import inputs, ort_feeds, ort_session

NATIVE = ("host", "x86", "x86-vnni")
STEP_SAMPLES = 2000  # the one-step peer is ~100x slower than the C: fewer samples suffice


def runnable(names: tuple[str, ...] = NATIVE) -> list[Target]:
    """The native targets whose compiler exists and whose CPU flags this machine has."""
    flags = emulate.host_cpu_flags()
    out = []
    for name in names:
        target = load_target(name)
        if shutil.which(target.cc) and all(f in flags for f in target.cpu_flags):
            out.append(target)
    return out


@dataclasses.dataclass
class NativeSpeed:
    model: str
    dtype: str
    samples: int
    macs_per_sample: int
    c_us_per_sample: dict[str, float]  # target -> best of repeats
    ort_tf_us_per_sample: float  # one full-sequence forward of `samples` samples, per sample
    repeats: int
    ort_step_us_per_sample: float | None = None  # the one-step graph per call (float models)
    batch: int = 1  # streams generated together by wn_generate_batch (1: not timed)
    c_batch_us_per_sample: dict[str, float] | None = None  # target -> per sample per stream

    @property
    def batch_gains(self) -> dict[str, float]:
        """Samples/s of `batch` streams together over one stream's, per target."""
        return {t: round(self.c_us_per_sample[t] / us, 3)
                for t, us in (self.c_batch_us_per_sample or {}).items()}

    @property
    def ratios(self) -> dict[str, float]:
        """C time per sample over ONNX Runtime's teacher-forced time per sample."""
        return {t: round(us / self.ort_tf_us_per_sample, 3) for t, us in self.c_us_per_sample.items()}

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "c_over_ort_tf": self.ratios,
                "batch_gain": self.batch_gains}


def measure(model: str | Path, dtype: str, targets: list[Target], samples: int = 20000,
            repeats: int = 3, seed: int = 0, temperature: float = 1.0,
            sparse: list[str] | None = None, ends: Ends | None = None,
            batch: int = 1) -> NativeSpeed:
    """Time the model's C on each target (and, batch > 1, `batch` streams generated together:
    stream 0 must equal the single run) and ONNX Runtime's teacher-forced forward pass."""
    from wncc.harness import CModel, Streams

    if not targets:
        raise WnccError("no native target runs on this machine (host, x86, x86-vnni)")
    if batch < 1:
        raise WnccError(f"--batch {batch}: at least one stream")
    with tempfile.TemporaryDirectory(prefix="wncc-bench-") as tmp:
        models, graph = {}, None
        for target in targets:
            graph, project = compile_model(model, Path(tmp) / target.name, target=target.name,
                                           dtype=dtype, sparse=sparse, ends=ends)
            models[target.name] = CModel(project)
        assert graph is not None
        first = next(iter(models.values()))
        frames = -(-samples // first.hop)
        mel = random_mel(frames, first.n_mels, seed)
        outputs = {name: c_generate(cm, mel, samples, seed, temperature)
                   for name, cm in models.items()}
        reference = next(iter(outputs))
        for name, pcm in outputs.items():
            if not np.array_equal(pcm, outputs[reference]):
                raise WnccError(f"the {name} build generated other samples than the "
                                f"{reference} build: a kernel is not exact")
        streams = {name: Streams(cm, batch) for name, cm in models.items()} if batch > 1 else {}
        mels = np.stack([mel] + [random_mel(frames, first.n_mels, seed + b)
                                 for b in range(1, batch)])
        seeds = [seed + b for b in range(batch)]
        for name, group in streams.items():
            if not np.array_equal(c_generate_batch(group, mels, samples, seeds, temperature)[0],
                                  outputs[reference]):
                raise WnccError(f"the {name} build's stream 0 of {batch} generated other samples "
                                "than one stream alone: wn_generate_batch is not exact")
        session = ort_session(Path(model))
        x, tf_mel = inputs(graph, frames, seed, None)
        feeds = ort_feeds(session, x, tf_mel, graph)
        session.run(None, feeds)  # warm-up
        step = None if is_integer(graph) else one_step(Path(model), graph, x, tf_mel)
        best = {name: float("inf") for name in models}
        best_batch = {name: float("inf") for name in streams}
        best_ort = best_step = float("inf")
        for _ in range(repeats):
            for name, cm in models.items():
                began = time.perf_counter()
                c_generate(cm, mel, samples, seed, temperature)
                best[name] = min(best[name], time.perf_counter() - began)
            for name, group in streams.items():
                began = time.perf_counter()
                c_generate_batch(group, mels, samples, seeds, temperature)
                best_batch[name] = min(best_batch[name], time.perf_counter() - began)
            began = time.perf_counter()
            session.run(None, feeds)
            best_ort = min(best_ort, time.perf_counter() - began)
            if step is not None:
                began = time.perf_counter()
                step()
                best_step = min(best_step, time.perf_counter() - began)
    st = lowered.of(graph).stats
    tf_samples = int(np.asarray(x).size)
    return NativeSpeed(Path(model).name, dtype, samples, st.macs_per_sample,
                       {n: round(1e6 * b / samples, 3) for n, b in best.items()},
                       round(1e6 * best_ort / tf_samples, 3), repeats,
                       None if step is None else round(1e6 * best_step / step.samples, 3),
                       batch, {n: round(1e6 * b / (samples * batch), 3)
                               for n, b in best_batch.items()} if streams else None)


def one_step(model: Path, graph: Graph, x: np.ndarray, mel: np.ndarray) -> StepPeer:
    """The one-step peer over the whole frames of the first STEP_SAMPLES teacher-forced inputs,
    checked against ONNX Runtime's full-sequence logits of the model first."""
    step_model, info = stepgraph.build(graph)
    runner = stepgraph.OrtStep(step_model, info)
    frames = min(-(-STEP_SAMPLES // graph.hop), np.asarray(x).size // graph.hop)
    x = np.asarray(x).reshape(-1)[:frames * graph.hop]
    mel = mel[:frames - graph.time.frames_delta]  # the whole frames' mel, as the model wants
    check = stepgraph.check(model, graph, runner, x, mel)
    if not check.passed:
        raise WnccError(f"the one-step graph differs from the model ({check.value}, limit "
                        f"{check.limit}): not timed")
    return StepPeer(runner, x, stepgraph.cond_rows(graph, info, mel, x.size))


@dataclasses.dataclass
class StepPeer:
    """The one-step peer's timed work: stepping over `samples` teacher-forced inputs."""

    runner: stepgraph.OrtStep
    x: np.ndarray
    rows: list[dict[str, np.ndarray]]

    @property
    def samples(self) -> int:
        return int(self.x.size)

    def __call__(self) -> None:
        self.runner.run(self.x, self.rows)


def markdown(rows: list[NativeSpeed]) -> str:
    """Rows: model, dtype, each target's us/sample, ONNX Runtime's one-step graph (float models)
    and teacher-forced pass, and each target's ratio to the teacher-forced pass."""
    targets = sorted({t for r in rows for t in r.c_us_per_sample}, key=NATIVE.index)
    lines = ["| model | dtype | " + " | ".join(f"C {t} µs/sample" for t in targets)
             + " | ORT one-step µs/sample | ORT teacher-forced µs/sample | "
             + " | ".join(f"{t} / ORT TF" for t in targets)
             + " |", "|---|---|" + "---:|" * (2 * len(targets) + 2)]
    for r in rows:
        us = [f"{r.c_us_per_sample[t]:.2f}" if t in r.c_us_per_sample else "" for t in targets]
        ratio = [f"{r.ratios[t]:.2f}x" if t in r.ratios else "" for t in targets]
        step = "" if r.ort_step_us_per_sample is None else f"{r.ort_step_us_per_sample:.1f}"
        lines.append(f"| {r.model} | {r.dtype} | " + " | ".join(us)
                     + f" | {step} | {r.ort_tf_us_per_sample:.2f} | " + " | ".join(ratio) + " |")
    batched = [r for r in rows if r.c_batch_us_per_sample]
    if batched:
        lines += ["", "| model | dtype | streams | " + " | ".join(
            f"C {t} µs/sample/stream | {t} gain" for t in targets) + " |",
            "|---|---|---:|" + "---:|" * (2 * len(targets))]
        for r in batched:
            cells = [f"{r.c_batch_us_per_sample[t]:.2f} | {r.batch_gains[t]:.2f}x"
                     if t in r.batch_gains else " | " for t in targets]
            lines.append(f"| {r.model} | {r.dtype} | {r.batch} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

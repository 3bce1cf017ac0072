"""Autoregressive generation speed: the generated C against naive ONNX Runtime and PyTorch peers.

Everything runs on one thread (C is single-threaded; PyTorch and ONNX Runtime are pinned to one
intra-op and one inter-op thread) so the numbers are ratios measured in the same run, which is
what stays meaningful on a noisy machine.

The peers generate the way a naive implementation does: for every new sample they run the
full-sequence (teacher-forced) network on a window of the history that covers the receptive
field, keep the logits of the last position, sample, append. The window is a whole number of
mel frames because the exported graph ties ``T = F * hop``; positions after the current one are
padding that causality keeps out of the result. The generated C instead keeps ring buffers and
does one step of work per sample, so its cost per sample does not depend on the dilations; the
dilation-variant measurement checks exactly that with two models of equal MACs per sample.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import platform
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Sequence

import numpy as np
from rich.table import Table

from wncc.arith.heads import pcm_table
from wncc.arith.sampling import SAMPLERS, SILENCE_CLASS, Pcg32, draw
from wncc.errors import WnccError
from wncc.passes import lowered
from wncc.targets import load as load_target

# logits at window position `pos` from (x window [1, W] int64, mel window [1, n_mels, W / hop])
LogitsFn = Callable[[np.ndarray, np.ndarray, int], np.ndarray]
Log = Callable[[str], None]


# ----------------------------------------------------------------------------- models

def wavenet_module() -> ModuleType:
    """examples/wavenet.py, the models benchmarked (wncc/bench/wavenet.py links to it, so an
    installed wncc carries a copy); it needs torch."""
    try:
        from wncc.bench import wavenet
    except ImportError as exc:
        raise WnccError(f"the host-speed benchmark builds its models with PyTorch: {exc} "
                        "(pip install 'wncc[examples]')") from None
    return wavenet


def resolve_config(name_or_cfg: Any) -> Any:
    """A WaveNetConfig from a name in CONFIGS or a config passed through."""
    wn = wavenet_module()
    return wn.CONFIGS[name_or_cfg] if isinstance(name_or_cfg, str) else name_or_cfg


def dilation_variants(of: str | Any = "base") -> dict[str, Any]:
    """Two configs with the same layers and channels (so the same MACs per sample) but dilations
    up to 512 (cycle 10) versus up to 32 (cycle 6)."""
    cfg = resolve_config(of)
    return {
        "dilations<=512": dataclasses.replace(cfg, layers_per_stack=10, dilation_cycle=10),
        "dilations<=32": dataclasses.replace(cfg, layers_per_stack=10, dilation_cycle=6),
    }


def torch_macs(module: Any) -> tuple[int, int]:
    """(per-sample, per-frame) multiply-accumulates of the PyTorch model counted from its convs,
    split the way wncc.passes.stats splits the compiled graph.

    The upsampler (weight [n_mels, n_mels, hop], so numel counts hop) is frame work. With
    "repeat" upsampling the conditioning projections (``cond``) see one constant vector per
    frame and the compiler hoists them to frame work; with "transpose" upsampling each sample
    reads its own row, so they stay sample work."""
    from torch import nn

    cond_per_frame = module.cfg.upsample != "transpose"
    per_sample = per_frame = 0
    for name, sub in module.named_modules():
        if not isinstance(sub, (nn.Conv1d, nn.ConvTranspose1d)):
            continue
        macs = int(sub.weight.numel())
        if name == "upsample" or (name.endswith(".cond") and cond_per_frame):
            per_frame += macs
        else:
            per_sample += macs
    return per_sample, per_frame


@dataclasses.dataclass
class BuiltModel:
    """One model in every form the benchmark drives: nn.Module, ONNX file, compiled C."""

    name: str
    cfg: Any
    module: Any
    onnx_path: Path
    project_dir: Path
    receptive_field: int
    macs_per_sample: int
    macs_per_frame: int
    _cmodel: Any = None

    @property
    def hop(self) -> int:
        return int(self.cfg.hop)

    @property
    def n_mels(self) -> int:
        return int(self.cfg.n_mels)

    def cmodel(self) -> Any:
        """The C project built with the host target's flags and loaded (built on first use)."""
        if self._cmodel is None:
            from wncc.harness import CModel

            self._cmodel = CModel(self.project_dir)
        return self._cmodel


@contextlib.contextmanager
def _quiet() -> Any:
    """Silence the exporter's progress prints, warnings and log records."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


def build_model(name: str, cfg: str | Any, workdir: Path, seed: int = 0,
                compile_c: bool = True, dynamo: bool = True) -> BuiltModel:
    """Build a seeded WaveNet, export it to ONNX and (optionally) compile it to C under workdir.

    dynamo=False uses the TorchScript exporter: several times faster to export, which tests use;
    the benchmark itself keeps the default dynamo exporter."""
    from wncc.compiler import compile_model

    wn = wavenet_module()
    cfg = resolve_config(cfg)
    module = wn.build(cfg, seed)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    onnx_path = workdir / f"{safe}.onnx"
    with _quiet():
        wn.export(module, onnx_path, dynamo=dynamo)
    project_dir = workdir / f"{safe}_c"
    rf, per_sample, per_frame = cfg.receptive_field, *torch_macs(module)
    if compile_c:
        graph, project_dir = compile_model(onnx_path, project_dir)
        st = lowered.of(graph).stats
        rf, per_sample, per_frame = st.receptive_field, st.macs_per_sample, st.macs_per_frame
    return BuiltModel(name, cfg, module, onnx_path, project_dir, rf, per_sample, per_frame)


def random_mel(frames: int, n_mels: int, seed: int = 0) -> np.ndarray:
    """Log-mel-like frames [F, n_mels]; speed does not depend on their content."""
    return np.random.default_rng(seed).standard_normal((frames, n_mels)).astype(np.float32)


# ----------------------------------------------------------------------------- naive window

def window_frames(t: int, receptive_field: int, hop: int) -> tuple[int, int]:
    """[first, last] mel frames of the smallest whole-frame window covering the receptive field
    of sample t, i.e. samples max(0, t - rf + 1) .. t."""
    first = max(0, t - receptive_field + 1) // hop
    return first, t // hop


def max_window_frames(receptive_field: int, hop: int) -> int:
    """Largest window (in frames) over all t: reached when t starts a frame."""
    return -(-(receptive_field - 1) // hop) + 1


def window_inputs(history: np.ndarray, mel_t: np.ndarray, t: int, receptive_field: int,
                  hop: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(x [1, W], mel [1, n_mels, W / hop], position of t in the window).

    history holds input classes x[0..] (x[t] = class of sample t - 1) and must extend to the end
    of t's frame; what lies after t is padding. mel_t is [n_mels, F]."""
    first, last = window_frames(t, receptive_field, hop)
    x = history[first * hop:(last + 1) * hop][None, :]
    mel = np.ascontiguousarray(mel_t[None, :, first:last + 1])
    return x, mel, t - first * hop


def steady_start(receptive_field: int, hop: int) -> int:
    """First frame-aligned sample whose whole receptive field lies in the past: from here on the
    naive windows have their steady-state size (the first samples' windows are shorter, which
    would flatter the naive peers)."""
    return -(-(receptive_field - 1) // hop) * hop


def naive_generate(logits_at: LogitsFn, mel: np.ndarray, n: int, receptive_field: int, hop: int,
                   seed: int = 0, temperature: float = 1.0,
                   prefix: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Generate n classes by re-running the network on a window per sample.

    prefix: classes of the samples already generated; generation continues after them (with a
    fresh random stream). Returns (the n new classes, seconds spent inside the network calls)."""
    start = 0 if prefix is None else len(prefix)
    frames = -(-(start + n) // hop)
    if mel.shape[0] < frames:
        raise ValueError(f"{start + n} samples need {frames} mel frames, got {mel.shape[0]}")
    history = np.full(frames * hop + 1, SILENCE_CLASS, dtype=np.int64)
    if prefix is not None:
        history[1:start + 1] = prefix
    mel_t = np.ascontiguousarray(np.asarray(mel, np.float32).T)
    rng = Pcg32(seed)
    temp = np.float32(temperature)
    in_model = 0.0
    for t in range(start, start + n):
        x, m, pos = window_inputs(history, mel_t, t, receptive_field, hop)
        began = time.perf_counter()
        logits = logits_at(x, m, pos)
        in_model += time.perf_counter() - began
        history[t + 1] = draw(logits, temp, rng, SAMPLERS[0])  # the C's default sampler
    return history[start + 1:start + n + 1].copy(), in_model


def ort_logits_fn(onnx_path: Path) -> LogitsFn:
    """ONNX Runtime on one thread, full-sequence graph, logits at one position."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])

    def logits_at(x: np.ndarray, mel: np.ndarray, pos: int) -> np.ndarray:
        return session.run(["logits"], {"x": x, "mel": mel})[0][0, :, pos]

    return logits_at


def torch_logits_fn(module: Any) -> LogitsFn:
    """PyTorch eager (inference mode), full-sequence forward, logits at one position.

    The caller pins torch to one thread (see :func:`single_thread_torch`)."""
    import torch

    def logits_at(x: np.ndarray, mel: np.ndarray, pos: int) -> np.ndarray:
        with torch.inference_mode():
            out = module(torch.from_numpy(x), torch.from_numpy(mel))
        return out[0, :, pos].numpy()

    return logits_at


@contextlib.contextmanager
def single_thread_torch() -> Any:
    """torch.set_num_threads(1) for the duration, restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ----------------------------------------------------------------------------- generated C

def c_generate(cmodel: Any, mel: np.ndarray, n: int, seed: int = 0,
               temperature: float = 1.0) -> np.ndarray:
    """n PCM samples from the compiled model: push a frame, generate up to hop samples, repeat."""
    cmodel.reset(seed, temperature)
    hop = cmodel.hop
    out = np.empty(n, np.int16)
    for f in range(-(-n // hop)):
        cmodel.push_frame(mel[f])
        done = f * hop
        out[done:done + min(hop, n - done)] = cmodel.generate(min(hop, n - done))
    return out


def c_generate_batch(streams: Any, mels: np.ndarray, n: int, seeds: list[int],
                     temperature: float = 1.0) -> np.ndarray:
    """c_generate on several streams at once (harness.Streams): mels [count, frames, n_mels],
    one seed each; [count, n] PCM."""
    streams.reset(seeds, temperature)
    hop = streams.model.hop
    out = np.empty((streams.count, n), np.int16)
    for f in range(-(-n // hop)):
        streams.push_frame(mels[:, f])
        done = f * hop
        out[:, done:done + min(hop, n - done)] = streams.generate(min(hop, n - done))
    return out


def pcm_to_classes(pcm: np.ndarray, classes: int = 256) -> np.ndarray:
    """Invert the mu-law PCM table (it is one-to-one)."""
    table = pcm_table(classes).astype(np.int32)
    order = np.argsort(table)
    idx = np.searchsorted(table[order], pcm.astype(np.int32))
    return order[idx].astype(np.int64)


# ----------------------------------------------------------------------------- timing

@dataclasses.dataclass
class Timing:
    """Wall times of repeated runs that each produce `samples` samples (warm-up excluded)."""

    samples: int
    times_s: list[float]
    cpu_times_s: list[float] = dataclasses.field(default_factory=list)  # process CPU time
    model_times_s: list[float] | None = None  # naive peers: time inside the network calls only

    @property
    def best_s(self) -> float:
        return min(self.times_s)

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)

    @property
    def samples_per_s(self) -> float:
        """Best-of-N throughput: the least disturbed run."""
        return self.samples / self.best_s

    @property
    def median_samples_per_s(self) -> float:
        return self.samples / self.median_s

    @property
    def us_per_sample(self) -> float:
        return 1e6 * self.best_s / self.samples

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "samples": self.samples, "repeats": len(self.times_s),
            "times_s": [round(v, 6) for v in self.times_s],
            "samples_per_s": self.samples_per_s,
            "median_samples_per_s": self.median_samples_per_s,
            "us_per_sample": self.us_per_sample,
        }
        if self.cpu_times_s:
            d["cpu_samples_per_s"] = self.samples / min(self.cpu_times_s)
        if self.model_times_s is not None:
            d["model_only_samples_per_s"] = self.samples / min(self.model_times_s)
        return d


def time_c(cmodel: Any, mel: np.ndarray, n: int, repeats: int, seed: int = 0,
           temperature: float = 1.0) -> Timing:
    """Best-of-repeats generation time of the C model (one untimed warm-up run first)."""
    c_generate(cmodel, mel, min(n, 4 * cmodel.hop), seed, temperature)
    timing = Timing(n, [])
    for _ in range(repeats):
        _timed_c(timing, cmodel, mel, seed, temperature)
    return timing


def _timed_c(timing: Timing, cmodel: Any, mel: np.ndarray, seed: int, temperature: float) -> None:
    """Append one run's wall and CPU time to timing."""
    cpu, start = time.process_time(), time.perf_counter()
    c_generate(cmodel, mel, timing.samples, seed, temperature)
    timing.times_s.append(time.perf_counter() - start)
    timing.cpu_times_s.append(time.process_time() - cpu)


def time_naive(logits_at: LogitsFn, mel: np.ndarray, n: int, repeats: int, receptive_field: int,
               hop: int, seed: int = 0, temperature: float = 1.0, warmup: int = 3,
               prefix: np.ndarray | None = None) -> Timing:
    """Best-of-repeats naive generation time of n samples after prefix (a few untimed warm-up
    samples first)."""
    args = (receptive_field, hop, seed, temperature)
    naive_generate(logits_at, mel, min(n, warmup), *args, prefix=prefix)
    timing = Timing(n, [], [], [])
    for _ in range(repeats):
        cpu, start = time.process_time(), time.perf_counter()
        _, in_model = naive_generate(logits_at, mel, n, *args, prefix=prefix)
        timing.times_s.append(time.perf_counter() - start)
        timing.cpu_times_s.append(time.process_time() - cpu)
        assert timing.model_times_s is not None
        timing.model_times_s.append(in_model)
    return timing


# ----------------------------------------------------------------------------- measurements

@dataclasses.dataclass
class ConfigResult:
    """Generation speed of one model: C against the naive ORT and PyTorch peers."""

    config: str
    receptive_field: int
    window_frames_max: int
    naive_start: int  # the naive peers are timed from this sample on (steady-state windows)
    macs_per_sample: int
    macs_per_frame: int
    c: Timing
    ort: Timing
    torch: Timing

    @property
    def ratio_c_ort(self) -> float:
        return self.c.samples_per_s / self.ort.samples_per_s

    @property
    def ratio_c_torch(self) -> float:
        return self.c.samples_per_s / self.torch.samples_per_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config, "receptive_field": self.receptive_field,
            "window_frames_max": self.window_frames_max, "naive_start": self.naive_start,
            "macs_per_sample": self.macs_per_sample, "macs_per_frame": self.macs_per_frame,
            "c": self.c.to_dict(), "ort_naive": self.ort.to_dict(),
            "torch_naive": self.torch.to_dict(),
            "ratio_c_ort": self.ratio_c_ort, "ratio_c_torch": self.ratio_c_torch,
        }


@dataclasses.dataclass
class VariantResult:
    """Per-sample time of the C for one dilation variant."""

    name: str
    max_dilation: int
    receptive_field: int
    macs_per_sample: int
    c: Timing

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "max_dilation": self.max_dilation,
                "receptive_field": self.receptive_field, "macs_per_sample": self.macs_per_sample,
                "c": self.c.to_dict(), "us_per_sample": self.c.us_per_sample}


def measure_config(model: BuiltModel, c_samples: int, naive_samples: int, repeats: int,
                   seed: int = 0, temperature: float = 1.0) -> ConfigResult:
    """C, naive ORT and naive PyTorch generation of the same model from the same mel.

    The C is timed from its first sample (its cost per sample is constant); the naive peers
    continue the C's own output from steady_start() so every timed window is full-size."""
    rf, hop = model.receptive_field, model.hop
    start = steady_start(rf, hop)
    frames = -(-max(c_samples, start + naive_samples) // hop)
    mel = random_mel(frames, model.n_mels, seed)
    c = time_c(model.cmodel(), mel, c_samples, repeats, seed, temperature)
    prefix = pcm_to_classes(c_generate(model.cmodel(), mel, start, seed, temperature))
    naive = dict(repeats=repeats, receptive_field=rf, hop=hop, seed=seed,
                 temperature=temperature, prefix=prefix)
    ort_t = time_naive(ort_logits_fn(model.onnx_path), mel, naive_samples, **naive)
    with single_thread_torch():
        torch_t = time_naive(torch_logits_fn(model.module), mel, naive_samples, **naive)
    return ConfigResult(model.name, rf, max_window_frames(rf, hop), start,
                        model.macs_per_sample, model.macs_per_frame, c, ort_t, torch_t)


def measure_variants(models: Sequence[BuiltModel], samples: int, repeats: int,
                     seed: int = 0, temperature: float = 1.0) -> list[VariantResult]:
    """C per-sample time of each model; repeats interleave the models so drift hits all alike."""
    mels = [random_mel(-(-samples // m.hop), m.n_mels, seed) for m in models]
    cms = [m.cmodel() for m in models]
    for cm, mel in zip(cms, mels):
        c_generate(cm, mel, min(samples, 4 * cm.hop), seed, temperature)
    timings = [Timing(samples, []) for _ in models]
    for _ in range(repeats):
        for timing, cm, mel in zip(timings, cms, mels):
            _timed_c(timing, cm, mel, seed, temperature)
    return [VariantResult(m.name, max(m.cfg.dilations), m.receptive_field, m.macs_per_sample, t)
            for m, t in zip(models, timings)]


def environment() -> dict[str, Any]:
    """What the numbers were measured on."""
    import onnxruntime
    import torch

    return {"python": platform.python_version(), "machine": platform.machine(),
            "processor": platform.processor() or platform.machine(),
            "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
            "threads": 1, "cflags": " ".join(load_target("host").cflags),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def run(configs: Sequence[str] = ("tiny", "base"), c_samples: int = 20000,
        naive_samples: int = 300, repeats: int = 3, variant_of: str | None = "base",
        variant_samples: int | None = None, variant_repeats: int = 7, seed: int = 0, temperature: float = 1.0,
        out_json: str | Path | None = None, workdir: str | Path | None = None,
        log: Log | None = None) -> dict[str, Any]:
    """Measure every config and the dilation variants; return (and optionally write) JSON.

    variant_of=None skips the dilation-variant measurement. Models are built under workdir, or
    a temporary directory that is removed afterwards."""
    log = log or (lambda msg: None)
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wncc-bench-")))
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        stack.enter_context(single_thread_torch())
        results = []
        for name in configs:
            log(f"building {name}")
            model = build_model(name, name, workdir, seed)
            log(f"measuring {name} (C {c_samples}, naive {naive_samples} samples, x{repeats})")
            results.append(measure_config(model, c_samples, naive_samples, repeats, seed,
                                          temperature).to_dict())
        variants = None
        if variant_of is not None:
            variants = _run_variants(variant_of, variant_samples or c_samples, variant_repeats,
                                     seed, temperature, workdir, log)
    report = {
        "benchmark": "generate_speed",
        "environment": environment(),
        "options": {"configs": list(configs), "c_samples": c_samples,
                    "naive_samples": naive_samples, "repeats": repeats,
                    "variant_of": variant_of, "variant_samples": variant_samples or c_samples,
                    "variant_repeats": variant_repeats,
                    "seed": seed, "temperature": temperature, "statistic": "best of repeats"},
        "configs": results,
        "dilation_variants": variants,
    }
    if out_json is not None:
        out = Path(out_json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
    return report


def _run_variants(of: str, samples: int, repeats: int, seed: int, temperature: float,
                  workdir: Path, log: Log) -> dict[str, Any]:
    models = []
    for name, cfg in dilation_variants(of).items():
        log(f"building {of} {name}")
        models.append(build_model(name, cfg, workdir, seed))
    log(f"measuring dilation variants ({samples} samples, x{repeats})")
    res = measure_variants(models, samples, repeats, seed, temperature)
    return {"of": of, "variants": [r.to_dict() for r in res],
            "equal_macs": len({r.macs_per_sample for r in res}) == 1,
            "ratio_long_over_short": res[0].c.us_per_sample / res[1].c.us_per_sample}


def window_is_exact_check(logits_full: np.ndarray, logits_at: LogitsFn, history: np.ndarray,
                          mel: np.ndarray, positions: Sequence[int], receptive_field: int,
                          hop: int) -> float:
    """Largest |window logits - full-sequence logits| over positions (logits_full [classes, T])."""
    mel_t = np.ascontiguousarray(np.asarray(mel, np.float32).T)
    worst = 0.0
    for t in positions:
        x, m, pos = window_inputs(history, mel_t, t, receptive_field, hop)
        worst = max(worst, float(np.max(np.abs(logits_at(x, m, pos) - logits_full[:, t]))))
    return worst


# ----------------------------------------------------------------------------- tables

def rate(v: float) -> str:
    """Samples per second, to a useful precision."""
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"


def config_table(report: dict[str, Any]) -> Table:
    """The configs of a run() report as a rich table."""
    table = Table(title="Autoregressive generation, samples/s (best of repeats, 1 thread)")
    for col in ("config", "RF", "window frames", "MACs/sample", "C", "ORT naive",
                "PyTorch naive", "C / ORT", "C / PyTorch"):
        table.add_column(col, justify="left" if col == "config" else "right")
    for r in report["configs"]:
        table.add_row(r["config"], str(r["receptive_field"]), str(r["window_frames_max"]),
                      f"{r['macs_per_sample']:,}", rate(r["c"]["samples_per_s"]),
                      rate(r["ort_naive"]["samples_per_s"]),
                      rate(r["torch_naive"]["samples_per_s"]),
                      f"{r['ratio_c_ort']:,.0f}x", f"{r['ratio_c_torch']:,.0f}x")
    return table


def variant_table(variants: dict[str, Any]) -> Table:
    """The dilation variants of a run() report as a rich table."""
    table = Table(title=f"C time per sample, equal MACs, dilation variants of '{variants['of']}' "
                        f"(long/short = {variants['ratio_long_over_short']:.3f})")
    for col in ("variant", "max dilation", "RF", "MACs/sample", "us/sample", "samples/s"):
        table.add_column(col, justify="left" if col == "variant" else "right")
    for v in variants["variants"]:
        table.add_row(v["name"], str(v["max_dilation"]), str(v["receptive_field"]),
                      f"{v['macs_per_sample']:,}", f"{v['us_per_sample']:.2f}",
                      rate(v["c"]["samples_per_s"]))
    return table


def markdown(report: dict[str, Any]) -> str:
    """The same numbers as markdown tables for the README."""
    lines = ["| config | receptive field | MACs/sample | C samples/s | ORT naive samples/s "
             "| PyTorch naive samples/s | C / ORT | C / PyTorch |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["configs"]:
        lines.append(f"| {r['config']} | {r['receptive_field']} | {r['macs_per_sample']:,} "
                     f"| {rate(r['c']['samples_per_s'])} "
                     f"| {rate(r['ort_naive']['samples_per_s'])} "
                     f"| {rate(r['torch_naive']['samples_per_s'])} "
                     f"| {r['ratio_c_ort']:,.0f}x | {r['ratio_c_torch']:,.0f}x |")
    variants = report.get("dilation_variants")
    if variants:
        lines += ["", "| variant (C) | max dilation | receptive field | MACs/sample | us/sample |",
                  "|---|---:|---:|---:|---:|"]
        for v in variants["variants"]:
            lines.append(f"| {variants['of']}, {v['name']} | {v['max_dilation']} "
                         f"| {v['receptive_field']} | {v['macs_per_sample']:,} "
                         f"| {v['us_per_sample']:.2f} |")
        lines.append(f"| ratio long / short | | | | {variants['ratio_long_over_short']:.3f} |")
    return "\n".join(lines)


__all__ = [
    "BuiltModel", "ConfigResult", "Timing", "VariantResult", "build_model", "c_generate",
    "config_table", "dilation_variants", "markdown", "max_window_frames", "measure_config", "measure_variants",
    "naive_generate", "ort_logits_fn", "pcm_to_classes", "random_mel", "run", "steady_start",
    "torch_logits_fn", "torch_macs", "variant_table", "window_frames", "window_inputs",
    "window_is_exact_check",
]

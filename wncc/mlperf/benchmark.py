"""One ``wncc mlperf`` run: the library, the model, each backend through each scenario (or the
accuracy run and its verdict), everything written to the output folder.

Output folder: ``mlperf.json`` (every figure and the settings), ``mlperf.png`` (latency
distributions), and LoadGen's own logs in ``<backend>/<scenario>/`` (Server: one folder per QPS
tried); an accuracy run keeps ``accuracy/`` (LoadGen's accuracy log) and the compiled ``project/``
it is scored with, so ``wncc mlperf-accuracy`` can score it again.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

from wncc.audio import SAMPLE_RATE
from wncc.errors import WnccError
from wncc.mlperf import accuracy, estimate, report, runner, scenarios, sut
from wncc.mlperf.model import Model, compile_c, prepare
from wncc.mlperf.qsl import Library, excerpts

SCHEMA = "wncc-mlperf/1"
HOST_BACKENDS = ("c", "ort")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    model: str
    data: str
    output: str
    scenarios: tuple[str, ...] = scenarios.SCENARIOS
    mode: str = "performance"
    backends: tuple[str, ...] = ("c",)
    dtype: str = "auto"
    calib: str | None = None
    quick: bool = False
    split: str = "test"
    seconds: float = 1.0
    samples: int = 64
    workers: int = 2
    seed: int = 0
    temperature: float = 1.0
    server_bound_rt: float = 0.0  # 0: chosen per model (see server_bound)
    server_steps: int = 0  # 0: runner.SERVER_STEPS
    reference: str | None = None


def check(opts: Options) -> None:
    """Refuse bad options before any work, each with one line."""
    from wncc.targets import load as load_target

    for s in opts.scenarios:
        scenarios.check(s)
    if opts.mode not in ("performance", "accuracy"):
        raise WnccError(f"unknown mode '{opts.mode}' (expected performance or accuracy)")
    for b in opts.backends:
        if b not in HOST_BACKENDS:
            load_target(b)  # an unknown target is a one-line error listing the targets
    if opts.mode == "accuracy" and opts.backends != ("c",):
        raise WnccError("accuracy mode scores generated audio: only the c backend generates "
                        "(ort is a teacher-forced lower bound, targets are estimates)")
    if opts.workers < 1:
        raise WnccError(f"--workers must be >= 1, got {opts.workers}")
    if opts.server_steps < 0:
        raise WnccError(f"--server-steps must be >= 0, got {opts.server_steps}")
    if opts.server_bound_rt < 0:
        raise WnccError(f"--server-bound must be >= 0, got {opts.server_bound_rt}")


def server_bound(latency_s: float, seconds: float, k: float) -> tuple[float, float]:
    """(k, bound s): the whole utterance within k x its real-time duration; k = 0 picks it per
    model: 1 (real time) when one worker is at least twice as fast as real time, else the
    smallest whole k with k x duration >= 2 x the unloaded latency."""
    k = k or max(1.0, float(math.ceil(2 * latency_s / seconds)))
    return k, k * seconds


def host_backend(backend: str, model: Model, library: Library, opts: Options, work: Path,
                 outdir: Path, progress: Progress) -> dict:
    """Every scenario of ``opts`` on the host backend ``backend``."""
    if backend == "ort" and model.onnx is None:
        raise WnccError("the ort backend runs an ONNX model, not a project folder",
                        path=str(model.source))
    project = compile_c(model, work / "project") if backend == "c" else None
    progress(f"{backend}: building {opts.workers} worker(s)")
    workers = sut.make_workers(backend, opts.workers, project=project, onnx=model.onnx,
                               temperature=opts.temperature)
    latency = runner.calibrate(workers[0], library)
    seconds = library.items[0].length / SAMPLE_RATE
    out: dict = {"measures": sut.MEASURES[backend], "workers": opts.workers,
                 "unloaded_latency_s": latency, "scenarios": {}}
    with sut.Sut(library, workers, opts.seed) as s:
        for scenario in opts.scenarios:
            progress(f"{backend}: {scenario}")
            where = outdir / backend / scenario
            if scenario == "Server":
                k, bound = server_bound(latency, seconds, opts.server_bound_rt)
                result = runner.server_search(s, library, latency, bound, opts.quick, where,
                                              opts.server_steps)
                result["latency_bound_realtime_multiple"] = k
            else:
                load = scenarios.Load(scenario, opts.quick, latency, opts.workers / latency)
                result = runner.run_test(s, library, load, where)
            out["scenarios"][scenario] = result
    return out


def target_backend(target: str, model: Model, library: Library) -> dict:
    """The SingleStream estimate on ``target``; a model the target refuses (too big for its
    flash or RAM, say) is reported with the reason instead of ending the whole run."""
    out: dict = {"measures": estimate.MEASURES, "scenarios": {}}
    try:
        out["scenarios"]["SingleStream"] = estimate.single_stream(model.onnx, target,
                                                                  model.dtype, library)
    except WnccError as exc:
        out["error"] = str(exc)
    return out


def accuracy_run(model: Model, library: Library, opts: Options, outdir: Path,
                 progress: Progress) -> dict:
    """LoadGen AccuracyOnly through the C (first scenario of opts), then the scores."""
    project = compile_c(model, outdir / "project")
    workers = sut.make_workers("c", opts.workers, project=project, temperature=opts.temperature)
    latency = runner.calibrate(workers[0], library)
    load = scenarios.Load(opts.scenarios[0], opts.quick, latency, opts.workers / latency)
    progress(f"accuracy: {opts.scenarios[0]} over {len(library)} samples")
    with sut.Sut(library, workers, opts.seed) as s:
        run = runner.run_test(s, library, load, outdir / "accuracy", accuracy=True)
    progress("accuracy: scoring")
    return {"run": run, "scores": accuracy.score(outdir / "accuracy" / "mlperf_log_accuracy.json",
                                                 library, project)}


def library_of(opts: Options) -> Library:
    items = excerpts(opts.data, opts.split, opts.seconds, opts.samples)
    return Library(items)


def run(opts: Options, progress: Progress = lambda _: None) -> dict:
    """The benchmark of ``opts``; writes the output folder and returns ``mlperf.json``'s dict."""
    check(opts)
    outdir = Path(opts.output)
    library = library_of(opts)
    result: dict = {"schema": SCHEMA, "options": asdict(opts), "qsl": library.describe(),
                    "scenario_meaning": {s: scenarios.MEANING[s] for s in opts.scenarios},
                    "lookahead_s": library.hop / SAMPLE_RATE, "backends": {}}
    with tempfile.TemporaryDirectory(prefix="wncc-mlperf-") as tmp:
        progress("preparing the model")
        model = prepare(opts.model, opts.dtype, opts.calib, Path(tmp) / "model")
        result["model"] = model.describe()
        outdir.mkdir(parents=True, exist_ok=True)  # after the checks: bad input leaves nothing
        if opts.mode == "accuracy":
            result["accuracy"] = accuracy_run(model, library, opts, outdir, progress)
            reference = reference_scores(opts, model, outdir, progress)
            if reference is not None:
                result["accuracy"]["reference"] = reference
                result["accuracy"]["verdict"] = accuracy.verdict(
                    result["accuracy"]["scores"], reference["scores"])
        else:
            for backend in opts.backends:
                if backend in HOST_BACKENDS:
                    r = host_backend(backend, model, library, opts, Path(tmp) / backend, outdir,
                                     progress)
                elif model.onnx is None:
                    raise WnccError("a target estimate compiles an ONNX model, not a project "
                                    "folder", path=str(model.source))
                else:
                    progress(f"{backend}: counting instructions")
                    r = target_backend(backend, model, library)
                result["backends"][backend] = r
    report.write(result, outdir)
    return result


def reference_scores(opts: Options, model: Model, outdir: Path,
                     progress: Progress) -> dict | None:
    """The fp32 reference's accuracy: ``--reference`` (an earlier accuracy output folder), or,
    for a float model run compressed, the fp32 model run the same way into
    ``reference-fp32/``; None for an fp32 run."""
    if opts.reference:
        return load_accuracy(Path(opts.reference))
    from wncc.fidelity.evaluate import model_dtype

    if model.dtype == "fp32" or model.onnx is None or model_dtype(model.source) != "fp32":
        return None
    progress("reference: the fp32 model")
    ref_dir = outdir / "reference-fp32"
    shutil.rmtree(ref_dir, ignore_errors=True)
    ref = run(replace(opts, dtype="fp32", calib=None, output=str(ref_dir)), progress)
    return {"folder": ref_dir.name, "model": ref["model"], "scores": ref["accuracy"]["scores"]}


def load_accuracy(folder: Path) -> dict:
    """The scores of an earlier accuracy run (its folder or its mlperf.json)."""
    path = folder if folder.suffix == ".json" else folder / report.JSON_NAME
    result = report.read(path)
    if "accuracy" not in result:
        raise WnccError("not the output of an accuracy run (--mode accuracy)", path=str(path))
    return {"folder": str(folder), "model": result["model"],
            "scores": result["accuracy"]["scores"]}


def rescore(folder: Path, reference: Path | None = None) -> dict:
    """Score an accuracy run's LoadGen log again (``wncc mlperf-accuracy``) and give the verdict
    against ``reference`` (an accuracy output folder) or the run's own reference; updates the
    folder's mlperf.json."""
    result = report.read(folder / report.JSON_NAME)
    if "accuracy" not in result:
        raise WnccError("not the output of an accuracy run (--mode accuracy)", path=str(folder))
    opts = Options(**{**result["options"], "scenarios": tuple(result["options"]["scenarios"]),
                      "backends": tuple(result["options"]["backends"])})
    scores = accuracy.score(folder / "accuracy" / "mlperf_log_accuracy.json", library_of(opts),
                            folder / "project")
    result["accuracy"]["scores"] = scores
    ref = load_accuracy(reference) if reference else result["accuracy"].get("reference")
    if ref is not None:
        result["accuracy"]["reference"] = ref
        result["accuracy"]["verdict"] = accuracy.verdict(scores, ref["scores"])
    report.write(result, folder)
    return result

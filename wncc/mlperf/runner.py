"""LoadGen runs: one test into its own log folder, its figures read back from LoadGen's detail log,
and the Server search for the highest VALID QPS.

Every figure of a result comes from LoadGen's ``mlperf_log_detail.txt`` (its ``:::MLLOG`` JSON
lines: validity, percentiles, samples per second); the SUT's own records add what LoadGen does not
know (time to first audio, the latency distribution plotted).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from wncc.audio import SAMPLE_RATE
from wncc.errors import WnccError
from wncc.mlperf import scenarios
from wncc.mlperf.qsl import Library
from wncc.mlperf.sut import Sut, Worker

LOG_FILES = ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "mlperf_log_accuracy.json",
             "mlperf_log_trace.json")
SERVER_STEPS = {True: 4, False: 8}  # bisection runs by default, quick and full


def detail(outdir: Path) -> dict:
    """The ``result_*`` and ``early_stopping_*`` entries of LoadGen's detail log."""
    out = {}
    path = outdir / "mlperf_log_detail.txt"
    if not path.exists():
        raise WnccError("LoadGen wrote no detail log", path=str(path))
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith(":::MLLOG "):
            entry = json.loads(line[len(":::MLLOG "):])
            if entry["key"].startswith(("result_", "early_stopping_")):
                out[entry["key"]] = entry["value"]
    return out


def calibrate(worker: Worker, library: Library, repeats: int = 3) -> float:
    """The fastest of ``repeats`` runs of one worker on sample 0 (after a warm-up run), in
    seconds: sizes the LoadGen runs (an optimistic figure, see ``scenarios.HEADROOM``)."""
    library.load([0])
    try:
        worker.run(library[0], 0)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            worker.run(library[0], 0)
            times.append(time.perf_counter() - start)
        return min(times)
    finally:
        library.unload([0])


def _percentile_key(scenario: str, p: float) -> str:
    per_query = "per_query_" if scenario == "MultiStream" else ""
    return f"result_{100 * p:.2f}_percentile_{per_query}latency_ns"


def _quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p90": None, "p99": None}
    v = np.asarray(values)
    return {f"p{q}": float(np.percentile(v, q)) for q in (50, 90, 99)}


def query_latencies(scenario: str, records: list[tuple[float, int, float, float]]) -> list[float]:
    """Per-query latency (s) from the SUT's records: a query's samples share its issue time."""
    if scenario != "MultiStream":
        return [r[2] for r in records]
    queries: dict[float, float] = {}
    for issued, _, latency, _ in records:
        queries[issued] = max(queries.get(issued, 0.0), latency)
    return list(queries.values())


def run_test(sut: Sut, library: Library, load: scenarios.Load, outdir: Path,
             accuracy: bool = False) -> dict:
    """One LoadGen test; LoadGen's logs stay in ``outdir``."""
    import mlperf_loadgen as lg

    outdir.mkdir(parents=True, exist_ok=True)
    for name in LOG_FILES:  # a stale log from an earlier run would be read as this one's
        (outdir / name).unlink(missing_ok=True)
    log_output = lg.LogOutputSettings()
    log_output.outdir = str(outdir)
    log_output.copy_summary_to_stdout = False
    log = lg.LogSettings()
    log.log_output = log_output
    log.enable_trace = False  # the trace is megabytes per run; summary and detail suffice
    with library.constructed() as qsl:
        lg.StartTestWithLogSettings(sut.handle, qsl, scenarios.test_settings(load, accuracy), log)
    records = sut.take_records()
    trace = outdir / "mlperf_log_trace.json"
    if trace.exists() and trace.stat().st_size == 0:  # tracing is off; LoadGen opens it anyway
        trace.unlink()
    lgd = detail(outdir)
    p = scenarios.percentile(load.scenario, load.quick)
    seconds = library.items[0].length / SAMPLE_RATE
    result = {"settings": load.describe(), "log_dir": outdir.name,
              "validity": lgd.get("result_validity"),
              "invalid_reason": lgd.get("result_invalid_reason"),
              "early_stopping_met": lgd.get("early_stopping_met"),
              "queries": lgd.get("result_query_count"), "samples": len(records),
              "latency_percentile": p,
              "latency_s": _ns(lgd.get(_percentile_key(load.scenario, p))),
              "latency_p50_s": _ns(lgd.get(_percentile_key(load.scenario, 0.5))),
              "time_to_first_audio_s": {k: v and v + library.hop / SAMPLE_RATE
                                        for k, v in _quantiles([r[3] for r in records]).items()},
              "query_latencies_s": query_latencies(load.scenario, records)}
    if load.scenario == "SingleStream" and result["latency_s"] is not None:
        result["realtime_factor"] = result["latency_s"] / seconds
    if load.scenario == "Offline":
        result["samples_per_s"] = lgd.get("result_samples_per_second")
    if load.scenario == "Server":
        result["completed_samples_per_s"] = lgd.get("result_completed_samples_per_sec")
    per_s = result.get("samples_per_s") or result.get("completed_samples_per_s")
    if per_s:
        result["audio_samples_per_s"] = per_s * library.items[0].length
    return result


def _ns(value: float | None) -> float | None:
    return None if value is None else value / scenarios.NS


def server_search(sut: Sut, library: Library, latency_s: float, bound_s: float,
                  quick: bool, outdir: Path, steps: int = 0) -> dict:
    """Bisection in ``steps`` LoadGen Server runs (0: ``SERVER_STEPS``) between a floor and
    1.25 x the workers' capacity: the highest QPS LoadGen calls VALID (None when none was). The
    floor is 0, or with ``quick`` the lowest QPS at which a capped run can issue its minimum
    queries (64 in 60 s: 1.07 QPS); below it a quick run cannot be VALID."""
    floor = (scenarios.QUICK_MIN_QUERIES / (scenarios.QUICK_MAX_DURATION_MS / 1000)
             if quick else 0.0)
    lo, hi = floor, max(floor, 1.25 * len(sut.workers) / latency_s)
    runs = []
    steps = 1 if hi == floor else steps or SERVER_STEPS[quick]
    for step in range(steps):
        qps = round((lo + hi) / 2, 3)
        load = scenarios.Load("Server", quick, latency_s, qps, target_qps=qps,
                              latency_bound_s=bound_s)
        run = run_test(sut, library, load, outdir / f"qps_{step}_{qps:g}")
        runs.append(run)
        if run["validity"] == "VALID":
            lo = qps
        else:
            hi = qps
    valid = [r for r in runs if r["validity"] == "VALID"]
    best = max(valid, key=lambda r: r["settings"]["target_qps"]) if valid else None
    return {"max_valid_qps": best["settings"]["target_qps"] if best else None,
            "qps_floor": floor, "latency_bound_s": bound_s, "runs": runs, "best": best,
            "validity": "VALID" if best else "INVALID"}

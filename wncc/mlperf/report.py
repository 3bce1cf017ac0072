"""Results of a ``wncc mlperf`` run: ``mlperf.json``, the latency plot ``mlperf.png`` and the
terminal/markdown summary rows. Host figures are LoadGen's; target rows say ``estimate``; ORT rows
say ``teacher-forced lower bound``."""

from __future__ import annotations

import json
from pathlib import Path

from wncc.errors import WnccError
from wncc.fidelity.evaluate import write_json

JSON_NAME = "mlperf.json"
PLOT_NAME = "mlperf.png"
LABELS = {"c": "C (host)", "ort": "ORT teacher-forced (lower bound)"}


def label(backend: str) -> str:
    return LABELS.get(backend, f"{backend} (estimate)")


def read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise WnccError(f"cannot read the mlperf result: {exc}", path=str(path)) from None


def write(result: dict, outdir: Path) -> None:
    write_json(result, outdir / JSON_NAME)
    plot(result, outdir / PLOT_NAME)


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{1e3 * seconds:,.1f} ms"


def headline(scenario: str, r: dict) -> str:
    """The scenario's metric in words."""
    if scenario == "Server":
        qps = r["max_valid_qps"]
        none = "no VALID QPS" + (f" >= {r['qps_floor']:.2f}" if r.get("qps_floor") else "")
        return (f"max VALID QPS {qps:g}" if qps is not None else none) + (
            f" (bound {r['latency_bound_s']:g} s = {r['latency_bound_realtime_multiple']:g}x "
            f"real time, p{100 * r['runs'][0]['latency_percentile']:g})")
    p = f"p{100 * r['latency_percentile']:g}"
    if scenario == "Offline":
        return f"{r['audio_samples_per_s']:,.0f} audio samples/s" if r.get(
            "audio_samples_per_s") else "—"
    text = f"{p} {_ms(r['latency_s'])}"
    if scenario == "SingleStream" and r.get("realtime_factor") is not None:
        text += f", RTF {r['realtime_factor']:.3f}"
    return text


def rows(result: dict) -> list[tuple[str, str, str, str, str]]:
    """(backend, scenario, metric, time to first audio p50, LoadGen validity) per result."""
    out = []
    for backend, b in result["backends"].items():
        if b.get("error"):
            out.append((label(backend), "SingleStream", b["error"], "—", "refused"))
        for scenario, r in b["scenarios"].items():
            ttfa = r.get("time_to_first_audio_s") or {}
            if scenario == "Server":  # its best run, or the last one tried
                ttfa = (r["best"] or r["runs"][-1])["time_to_first_audio_s"]
            validity = "estimate" if r.get("estimate") else (r.get("validity") or "—")
            out.append((label(backend), scenario, headline(scenario, r), _ms(ttfa.get("p50")),
                        validity))
    return out


def verdict_rows(result: dict) -> list[tuple[str, str, str, str, str, str]]:
    """(metric, model, fp32, fraction, 99 %, 99.9 %) of an accuracy run with a reference."""
    v = result.get("accuracy", {}).get("verdict")
    if not v:
        return []
    return [(m, f"{x['model']:.4f}", f"{x['fp32']:.4f}", f"{x['fraction']:.4f}", x["99%"],
             x["99.9%"]) for m, x in v["metrics"].items()]


def _series(result: dict) -> dict[str, list[tuple[str, list[float]]]]:
    """{scenario: [(backend label, query latencies s)]}; Server: its best (or last) run."""
    out: dict[str, list[tuple[str, list[float]]]] = {}
    for backend, b in result["backends"].items():
        for scenario, r in b["scenarios"].items():
            if scenario == "Server":
                r = r["best"] or r["runs"][-1]
            if r.get("query_latencies_s"):
                out.setdefault(scenario, []).append((label(backend), r["query_latencies_s"]))
    return out


def plot(result: dict, path: Path) -> None:
    """Latency distributions per scenario (one panel) and backend (one box each)."""
    series = _series(result)
    if not series:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(series), figsize=(4.5 * len(series), 4), squeeze=False)
    for ax, (scenario, items) in zip(axes[0], series.items()):
        ax.boxplot([[1e3 * v for v in lat] for _, lat in items], whis=(1, 99))
        ax.set_xticks(range(1, len(items) + 1), [name for name, _ in items])
        ax.set_yscale("log")
        ax.set_title(f"{scenario}: query latency")
        ax.set_ylabel("ms (log)")
        ax.tick_params(axis="x", labelrotation=15, labelsize=7)
    model = result.get("model", {})
    fig.suptitle(f"wncc mlperf {model.get('name', '')} ({model.get('dtype', '')}); whiskers "
                 "p1-p99; estimates are not measurements", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

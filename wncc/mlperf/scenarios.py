"""The four LoadGen scenarios, what they mean for a vocoder, and their LoadGen settings.

A sample is one utterance (an excerpt of held-out speech): its mel frames in, its audio out.

* SingleStream: one utterance per query, the next issued when the last completes; the metric is
  the 90th-percentile latency (and the real-time factor: latency / audio duration).
* MultiStream: N = 8 utterances per query (eight voices at once); the 99th-percentile latency of
  the whole query.
* Server: queries of one utterance arrive as a Poisson process at a target QPS; a run is VALID
  when LoadGen says so (99th-percentile latency within the bound, enough queries, early stopping
  met). The bound is stated per model: the whole utterance within k times its real-time duration.
  The metric is the highest VALID QPS, found by bisection over LoadGen runs.
* Offline: all samples in one query; the metric is generated samples (audio) per second.

Defaults are MLPerf's minimums (600 s, and 1024 / 662 / 270336 queries, 24576 Offline samples).
``quick`` (tests, CI, slow models) asks for 1 s and 64 queries and caps a run at 60 s (a
SingleStream or MultiStream run at twice the time its 64 queries are expected to take, when that
is longer); to let LoadGen's early stopping be met with 64 queries it judges MultiStream and
Server at the 90th percentile instead of the 99th, which every output states.
"""

from __future__ import annotations

from dataclasses import dataclass

from wncc.errors import WnccError

SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline")
MULTI_STREAM_SAMPLES = 8
NS = 1e9

MEANING = {
    "SingleStream": "one utterance per query, back to back: p90 latency and real-time factor",
    "MultiStream": f"{MULTI_STREAM_SAMPLES} utterances per query: p99 latency of the query",
    "Server": "Poisson arrivals of one-utterance queries: highest QPS LoadGen calls VALID with "
              "the latency bound",
    "Offline": "all utterances in one query: generated samples per second",
}

# MLPerf's minimum query counts (Offline: samples in its one query) and duration
FULL_MIN_QUERIES = {"SingleStream": 1024, "MultiStream": 662, "Server": 270336, "Offline": 24576}
FULL_MIN_DURATION_MS = 600_000
QUICK_MIN_QUERIES = 64
QUICK_MIN_DURATION_MS = 1000
QUICK_MAX_DURATION_MS = 60_000
# LoadGen pre-generates min_duration / expected latency queries (Offline: min_duration x expected
# QPS samples): the calibrated figures are passed HEADROOM times optimistic so that a run that
# goes faster than the calibration still fills the minimum duration
HEADROOM = 2.0


def check(scenario: str) -> str:
    if scenario not in SCENARIOS:
        raise WnccError(f"unknown scenario '{scenario}' (expected one of {', '.join(SCENARIOS)})")
    return scenario


def percentile(scenario: str, quick: bool) -> float:
    """The latency percentile LoadGen judges ``scenario`` at (see the module doc)."""
    if scenario in ("MultiStream", "Server"):
        return 0.9 if quick else 0.99
    return 0.9


@dataclass(frozen=True)
class Load:
    """What one LoadGen run asks: ``expected_latency_s`` of one query unloaded and
    ``expected_qps`` (samples/s) size the run; Server adds its QPS and latency bound."""

    scenario: str
    quick: bool
    expected_latency_s: float
    expected_qps: float
    target_qps: float = 0.0
    latency_bound_s: float = 0.0

    def quick_cap_ms(self) -> int:
        """The quick cap: 60 s, or for SingleStream and MultiStream twice the time their 64
        queries are expected to take when that is longer (so a slow model still reaches them)."""
        per_query = self.expected_latency_s * (MULTI_STREAM_SAMPLES
                                               if self.scenario == "MultiStream" else 1)
        if self.scenario not in ("SingleStream", "MultiStream"):
            per_query = 0.0
        return max(QUICK_MAX_DURATION_MS, int(2000 * QUICK_MIN_QUERIES * per_query))

    def describe(self) -> dict:
        return {"scenario": self.scenario, "quick": self.quick,
                "latency_percentile": percentile(self.scenario, self.quick),
                "samples_per_query": (MULTI_STREAM_SAMPLES if self.scenario == "MultiStream"
                                      else 1),
                "min_duration_ms": QUICK_MIN_DURATION_MS if self.quick else FULL_MIN_DURATION_MS,
                "min_query_count": (QUICK_MIN_QUERIES if self.quick
                                    else FULL_MIN_QUERIES[self.scenario]),
                "max_duration_ms": self.quick_cap_ms() if self.quick else None,
                "target_qps": self.target_qps or None,
                "latency_bound_s": self.latency_bound_s or None}


def test_settings(load: Load, accuracy: bool):
    """LoadGen's TestSettings for ``load`` (accuracy: every sample once, AccuracyOnly)."""
    import mlperf_loadgen as lg

    d = load.describe()
    s = lg.TestSettings()
    s.scenario = getattr(lg.TestScenario, load.scenario)
    s.mode = lg.TestMode.AccuracyOnly if accuracy else lg.TestMode.PerformanceOnly
    s.min_duration_ms = d["min_duration_ms"]
    s.min_query_count = d["min_query_count"]
    if d["max_duration_ms"]:
        s.max_duration_ms = d["max_duration_ms"]
    latency_ns = max(1, int(load.expected_latency_s / HEADROOM * NS))
    s.single_stream_expected_latency_ns = latency_ns
    s.single_stream_target_latency_percentile = percentile("SingleStream", load.quick)
    s.multi_stream_samples_per_query = MULTI_STREAM_SAMPLES
    s.multi_stream_expected_latency_ns = latency_ns * MULTI_STREAM_SAMPLES
    s.multi_stream_target_latency_percentile = percentile("MultiStream", load.quick)
    s.offline_expected_qps = max(load.expected_qps * HEADROOM, 1e-3)
    if load.scenario == "Server":
        s.server_target_qps = load.target_qps
        s.server_target_latency_ns = int(load.latency_bound_s * NS)
        s.server_target_latency_percentile = percentile("Server", load.quick)
    return s

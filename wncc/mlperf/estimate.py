"""SingleStream on emulated targets: an *estimate* from exact instruction counts.

``wncc.bench.target.bench`` compiles the model for the target, runs one mel frame of the first
utterance under the target's emulator and counts the instructions of the frame program and the
sample program of every sample. At the target's nominal clock, one instruction per cycle (QEMU
models no cycles, caches or memory stalls), an utterance of ``n`` samples takes
``n * instructions_per_sample / clock_hz`` seconds. LoadGen is not run: it measures this host's
wall clock, and sleeping for the estimate would only time the sleep (base on a Cortex-M7 needs
minutes per second of audio). The query latencies are therefore computed for every excerpt of the
library directly (they are equal when the excerpts are) and reported as the p90 of those, labelled
``estimate`` in every output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wncc.audio import SAMPLE_RATE
from wncc.errors import WnccError
from wncc.mlperf.qsl import Library

MEASURES = ("estimate: instructions counted under emulation at the nominal clock, one "
            "instruction per cycle, no memory stalls; not a measurement of time")


def single_stream(model: Path, target: str, dtype: str, library: Library) -> dict:
    """The SingleStream estimate of ``model`` on ``target`` over the library's excerpts."""
    from wncc.bench.target import bench

    library.load([0])
    try:
        tb = bench(model, target, dtype, frames=1, mel=library[0].mel)
    finally:
        library.unload([0])
    if not tb.clock_hz:
        raise WnccError(f"target '{target}' states no nominal clock: no time can be estimated")
    per_sample_s = tb.instructions_per_sample / tb.clock_hz
    latencies = [e.length * per_sample_s for e in library.items]
    p90 = float(np.percentile(latencies, 90))
    return {"scenario": "SingleStream", "estimate": True, "measures": MEASURES,
            "target": tb.target, "clock_hz": tb.clock_hz, "tool": tb.tool,
            "instructions_per_sample": tb.instructions_per_sample,
            "instructions_per_mac": tb.instructions_per_mac,
            "flash_bytes": tb.flash_bytes, "ram_bytes": tb.ram_bytes,
            "latency_percentile": 0.9, "latency_s": p90,
            "realtime_factor": per_sample_s * SAMPLE_RATE,
            "time_to_first_audio_s": {"p50": (library.hop / SAMPLE_RATE
                                              + library.hop * per_sample_s)},
            "query_latencies_s": latencies, "validity": None}

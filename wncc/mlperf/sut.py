"""Systems under test: worker threads pulling LoadGen's samples from one queue.

Each worker owns its engine: a ``CModel`` (one ``wn_state``) for the compiled C, an ONNX Runtime
session (one intra-op thread) for the peer. Both release the GIL while they compute (cffi calls,
``InferenceSession.run``), so workers run in parallel. A sample's latency is timed from the moment
LoadGen issued its query to the moment its response is complete; its time to first audio from the
same moment to the first hop of audio the engine hands back (plus the one mel frame of lookahead,
added by the report).

What each backend measures (written into every output as ``measures``):

* ``c``: free-running generation of the utterance through the compiled C, frame by frame
  (``wn_push_frame``, ``wn_generate`` of one hop), sampling seeded ``seed + sample index``. The
  response is the int16 PCM, which the accuracy log keeps.
* ``ort``: ONNX Runtime on the exported full-sequence graph, one teacher-forced pass over the
  utterance's ground-truth samples. Generating with that graph needs one pass per sample (the
  next input is the sample just drawn), so this is a *lower bound* of any ORT generation, not
  generation; its first audio is the end of the pass. The response is the logits.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Protocol

import numpy as np

from wncc.fidelity.evaluate import Utterance
from wncc.mlperf.qsl import Library

MEASURES = {
    "c": "free-running generation through the compiled C (one wn_state per worker thread)",
    "ort": "ONNX Runtime teacher-forced full-sequence pass over the ground truth: a lower bound "
           "of any ORT generation, not generation",
}


class Worker(Protocol):
    def run(self, utt: Utterance, seed: int) -> tuple[np.ndarray, float]:
        """(response array, perf_counter() when the first audio was ready)."""


class CWorker:
    """The compiled C through cffi, one state."""

    def __init__(self, project: Path, temperature: float) -> None:
        from wncc.harness import CModel

        self.c = CModel(project)
        self.temperature = temperature

    def run(self, utt: Utterance, seed: int) -> tuple[np.ndarray, float]:
        c, hop = self.c, self.c.hop
        c.reset(seed, self.temperature)
        pcm = np.empty(len(utt.mel) * hop, np.int16)
        first = 0.0
        for f, frame in enumerate(utt.mel):
            c.push_frame(frame)
            pcm[f * hop:(f + 1) * hop] = c.generate(hop)
            first = first or time.perf_counter()
        return pcm, first


class OrtWorker:
    """ONNX Runtime, one session on one intra-op thread, teacher-forced full-sequence pass."""

    def __init__(self, model: Path) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        self.inputs = [(i.name, "int" in i.type) for i in self.session.get_inputs()]

    def run(self, utt: Utterance, seed: int) -> tuple[np.ndarray, float]:
        feeds = {name: (utt.x.reshape(1, -1) if is_int else
                        np.ascontiguousarray(utt.mel.T[None], np.float32))
                 for name, is_int in self.inputs}
        logits = self.session.run(None, feeds)[0]
        return logits, time.perf_counter()


def make_workers(backend: str, n: int, *, project: Path | None = None, onnx: Path | None = None,
                 temperature: float = 1.0) -> list[Worker]:
    """``n`` workers of ``backend`` (built one after the other: one make per project)."""
    if backend == "c":
        return [CWorker(project, temperature) for _ in range(n)]
    return [OrtWorker(onnx) for _ in range(n)]


class Sut:
    """The LoadGen SUT over a pool of workers; ``records`` holds (issue time, sample index,
    latency s, first audio s) per completed sample of the current test."""

    def __init__(self, library: Library, workers: list[Worker], seed: int) -> None:
        self.library = library
        self.workers = workers
        self.seed = seed
        self.queue: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.records: list[tuple[float, int, float, float]] = []
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []
        self.handle = None

    def __enter__(self) -> "Sut":
        import mlperf_loadgen as lg

        self.threads = [threading.Thread(target=self._loop, args=(w,), daemon=True)
                        for w in self.workers]
        for t in self.threads:
            t.start()
        self.handle = lg.ConstructSUT(self.issue, self.flush)
        return self

    def __exit__(self, *exc: object) -> None:
        import mlperf_loadgen as lg

        for _ in self.threads:
            self.queue.put(None)
        for t in self.threads:
            t.join()
        lg.DestroySUT(self.handle)

    def issue(self, samples: list) -> None:
        t = time.perf_counter()
        for q in samples:
            self.queue.put((q.id, q.index, t))

    def flush(self) -> None:
        """Nothing is batched: every sample is already on its way."""

    def take_records(self) -> list[tuple[float, int, float, float]]:
        """The records of the test that just ended (and start a new list); raise a worker's
        error, if any."""
        with self.lock:
            records, self.records = self.records, []
        if self.errors:
            raise self.errors[0]
        return records

    def _loop(self, worker: Worker) -> None:
        import mlperf_loadgen as lg

        while (item := self.queue.get()) is not None:
            qid, index, issued = item
            try:
                out, first = worker.run(self.library[index], self.seed + index)
            except Exception as exc:  # LoadGen waits for every sample: answer, then report
                self.errors.append(exc)
                out, first = np.zeros(0, np.int16), time.perf_counter()
            done = time.perf_counter()
            with self.lock:
                self.records.append((issued, index, done - issued, first - issued))
            lg.QuerySamplesComplete([lg.QuerySampleResponse(qid, out.ctypes.data, out.nbytes)])

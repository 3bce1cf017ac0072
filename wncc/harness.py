"""Build an emitted C project on the host and drive it from Python through cffi (ABI mode).

The project's own Makefile builds ``libwn.so``; the library is copied under a name derived from
its bytes before loading, so recompiling a project in place never hands back a stale library.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import cffi
import numpy as np

from wncc.errors import WnccError
from wncc.arith.sampling import mulaw_pcm_table

CDEF = """
typedef struct wn_state wn_state;
size_t wn_state_size(void);
int wn_init(wn_state *s);
int wn_reset(wn_state *s, uint64_t seed);
int wn_set_temperature(wn_state *s, float temperature);
int wn_push_frame(wn_state *s, const float *mel);
int wn_flush(wn_state *s);
int32_t wn_available(const wn_state *s);
int wn_generate(wn_state *s, int16_t *pcm, size_t n);
int wn_step_logits(wn_state *s, int32_t x, void *logits);
int32_t wn_last_class(const wn_state *s);
"""

# wn_status values (wn_model.h)
WN_ERR_INPUT = -3
WN_END = 1
STATUS = {-1: "WN_ERR_ARG", -2: "WN_ERR_NEED_FRAME", WN_ERR_INPUT: "WN_ERR_INPUT",
          -4: "WN_ERR_STATE"}

_LOADED = Path(tempfile.gettempdir()) / "wncc-libs"


def build_shared(project: Path, cc: str = "cc", cflags: str | None = None) -> Path:
    """Run the project's Makefile for the shared library (with the target's flags, or
    ``cflags`` instead); raise with the compiler's words."""
    flags = [f"CFLAGS={cflags}"] if cflags is not None else []
    proc = subprocess.run(["make", "-s", "-C", str(project), "shared", f"CC={cc}", *flags],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise WnccError(f"C build failed: {(proc.stderr or proc.stdout).strip()[:2000]}",
                        path=str(project))
    return project / "libwn.so"


def header_macro(header: str, name: str) -> int:
    """The integer value of a #define in wn_model.h."""
    for line in header.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "#define" and parts[1] == name:
            return int(parts[2].strip("()"))
    raise WnccError(f"{name} missing from wn_model.h")


class CModel:
    """The compiled model, one state, the same calls as the C API."""

    def __init__(self, project: str | Path, cc: str = "cc", cflags: str | None = None) -> None:
        project = Path(project)
        header = (project / "wn_model.h").read_text()
        self.hop = header_macro(header, "WN_HOP")
        self.n_mels = header_macro(header, "WN_N_MELS")
        self.classes = header_macro(header, "WN_CLASSES")
        self.logit_dtype = np.dtype([np.float32, np.int8, np.int16][header_macro(header, "WN_LOGIT_KIND")])
        lib = build_shared(project, cc, cflags)
        digest = hashlib.sha256(lib.read_bytes()).hexdigest()[:16]
        _LOADED.mkdir(exist_ok=True)
        private = _LOADED / f"libwn-{digest}.so"
        if not private.exists():
            shutil.copyfile(lib, private)
        self.ffi = cffi.FFI()
        self.ffi.cdef(CDEF)
        self.lib = self.ffi.dlopen(str(private))
        self._mem = self.ffi.new("char[]", self.lib.wn_state_size())
        self.state = self.ffi.cast("wn_state *", self._mem)
        self._check(self.lib.wn_init(self.state), "wn_init")
        pcm = mulaw_pcm_table(self.classes)
        self._class_of_pcm = {int(v): c for c, v in enumerate(pcm)}

    @staticmethod
    def _check(status: int, call: str) -> None:
        if status == WN_ERR_INPUT:
            raise WnccError(f"{call}: a mel value is NaN or infinite (WN_ERR_INPUT)")
        if status != 0:
            raise RuntimeError(f"{call} returned {STATUS.get(status, status)}")

    def reset(self, seed: int = 0, temperature: float = 1.0) -> None:
        self._check(self.lib.wn_set_temperature(self.state, temperature), "wn_set_temperature")
        self._check(self.lib.wn_reset(self.state, seed), "wn_reset")

    def push_frame(self, mel: np.ndarray) -> None:
        mel = np.ascontiguousarray(mel, dtype=np.float32)
        self._check(self.lib.wn_push_frame(self.state, self.ffi.from_buffer("float[]", mel)),
                    "wn_push_frame")

    def step_logits(self, x: int, out: np.ndarray | None = None) -> np.ndarray:
        """Logits of the model's type (float32, or the int8/int16 quantized values)."""
        out = np.empty(self.classes, self.logit_dtype) if out is None else out
        self._check(self.lib.wn_step_logits(self.state, int(x), self.ffi.from_buffer(out)),
                    "wn_step_logits")
        return out

    def generate(self, n: int) -> np.ndarray:
        pcm = np.empty(n, np.int16)
        self._check(self.lib.wn_generate(self.state, self.ffi.from_buffer("int16_t[]", pcm), n),
                    "wn_generate")
        return pcm

    def flush(self) -> bool:
        """End of the utterance: whether another of the last frames was made."""
        status = self.lib.wn_flush(self.state)
        if status == WN_END:
            return False
        self._check(status, "wn_flush")
        return True

    def frames(self, mel: np.ndarray):
        """Push every frame, then flush: yields once for each output frame made (its hop
        samples are then available), the streaming API's loop."""
        for frame in np.asarray(mel, np.float32):
            self.push_frame(frame)
            if self.lib.wn_available(self.state):
                yield
        while self.flush():
            yield

    def teacher_forced(self, x: np.ndarray, mel: np.ndarray) -> np.ndarray:
        """Logits [T, classes] from a fresh state (seed 0), x [T] classes, mel [F, n_mels]."""
        x = np.asarray(x).reshape(-1)
        self.reset(0)
        logits = np.empty((x.shape[0], self.classes), self.logit_dtype)
        t = 0
        for _ in self.frames(mel):
            for _ in range(self.hop):
                self.step_logits(int(x[t]), logits[t])
                t += 1
        if t != x.shape[0]:
            raise ValueError(f"{x.shape[0]} samples for {t // self.hop} output frames")
        return logits

    def vocode(self, mel: np.ndarray, seed: int = 0, temperature: float = 1.0
               ) -> tuple[np.ndarray, np.ndarray]:
        """Free-running generation over mel frames [F, n_mels]: (classes, pcm)."""
        self.reset(seed, temperature)
        pcm = [self.generate(self.hop) for _ in self.frames(mel)]
        out = np.concatenate(pcm) if pcm else np.zeros(0, np.int16)
        classes = np.array([self._class_of_pcm[int(v)] for v in out], np.int64)
        return classes, out

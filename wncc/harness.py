"""Build an emitted C project on the host and drive it from Python through cffi (ABI mode).

The project's own Makefile builds ``libwn.so``; the library is copied under a name derived from
its bytes before loading, so recompiling a project in place never hands back a stale library.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import cffi
import numpy as np

from wncc.errors import WnccError
from wncc.arith.heads import pcm_table

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
int wn_generate_batch(wn_state *const *streams, size_t count, int16_t *pcm, size_t n);
int wn_step_logits(wn_state *s, {input_t} x, void *logits);
int32_t wn_last_class(const wn_state *s);
float wn_last_value(const wn_state *s);
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


def class_of_pcm(header: str) -> dict[int, int]:
    """PCM value -> class of a categorical project without de-emphasis (its samples show in
    the PCM); empty for the others, whose samples are read back one by one."""
    if header_macro(header, "WN_HEAD_KIND") != 0 or "WN_DEEMPHASIS" in header:
        return {}
    companding = "linear" if '#define WN_COMPANDING "linear"' in header else "mulaw"
    table = pcm_table(header_macro(header, "WN_OUTPUTS"), companding)
    return {int(v): c for c, v in enumerate(table)}


class CModel:
    """The compiled model, one state, the same calls as the C API."""

    def __init__(self, project: str | Path, cc: str = "cc", cflags: str | None = None) -> None:
        project = Path(project)
        header = (project / "wn_model.h").read_text()
        self.hop = header_macro(header, "WN_HOP")
        self.n_mels = header_macro(header, "WN_N_MELS")
        self.frames_delta = header_macro(header, "WN_FRAMES_DELTA")  # output frames - mel frames
        self.outputs = header_macro(header, "WN_OUTPUTS")
        self.scalar = header_macro(header, "WN_INPUT_KIND") == 2
        self.categorical = header_macro(header, "WN_HEAD_KIND") == 0
        self.logit_dtype = np.dtype([np.float32, np.int8, np.int16][header_macro(header, "WN_LOGIT_KIND")])
        lib = build_shared(project, cc, cflags)
        digest = hashlib.sha256(lib.read_bytes()).hexdigest()[:16]
        _LOADED.mkdir(exist_ok=True)
        private = _LOADED / f"libwn-{digest}.so"
        if not private.exists():  # copied whole, then renamed: a parallel load never sees half
            partial = private.with_name(f"{private.name}.{os.getpid()}")
            shutil.copyfile(lib, partial)
            os.replace(partial, private)
        self.ffi = cffi.FFI()
        self.ffi.cdef(CDEF.format(input_t="float" if self.scalar else "int32_t"))
        self.lib = self.ffi.dlopen(str(private))
        self._mem = self.ffi.new("char[]", self.lib.wn_state_size())
        self.state = self.ffi.cast("wn_state *", self._mem)
        self._check(self.lib.wn_init(self.state), "wn_init")
        self._class_of_pcm = class_of_pcm(header)

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

    def step_logits(self, x, out: np.ndarray | None = None) -> np.ndarray:
        """Logits of the model's type (float32, or the int8/int16 quantized values) for the
        sample input x (a class, or a value for a scalar input)."""
        out = np.empty(self.outputs, self.logit_dtype) if out is None else out
        x = float(x) if self.scalar else int(x)
        self._check(self.lib.wn_step_logits(self.state, x, self.ffi.from_buffer(out)),
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
        """Logits [T, outputs] from a fresh state (seed 0), x [T] sample inputs, mel [F, n_mels]."""
        x = np.asarray(x).reshape(-1)
        self.reset(0)
        logits = np.empty((x.shape[0], self.outputs), self.logit_dtype)
        t = 0
        for _ in self.frames(mel):
            for _ in range(self.hop):
                self.step_logits(x[t], logits[t])
                t += 1
        if t != x.shape[0]:
            raise ValueError(f"{x.shape[0]} samples for {t // self.hop} output frames")
        return logits

    def vocode(self, mel: np.ndarray, seed: int = 0, temperature: float = 1.0
               ) -> tuple[np.ndarray, np.ndarray]:
        """Free-running generation over mel frames [F, n_mels]: (history values, pcm); a history
        value is the class, or the value of a mixture or Gaussian head's sample."""
        self.reset(seed, temperature)
        if self._class_of_pcm:
            pcm = [self.generate(self.hop) for _ in self.frames(mel)]
            out = np.concatenate(pcm) if pcm else np.zeros(0, np.int16)
            return np.array([self._class_of_pcm[int(v)] for v in out], np.int64), out
        last = self.lib.wn_last_class if self.categorical else self.lib.wn_last_value
        history, samples = [], []
        for _ in self.frames(mel):
            for _ in range(self.hop):
                samples.append(self.generate(1)[0])
                history.append(last(self.state))
        return (np.array(history, np.int64 if self.categorical else np.float32),
                np.array(samples, np.int16))


class Streams:
    """``count`` independent states of one compiled model, generated together in one pass per
    op (wn_generate_batch); stream b is bit-identical to a CModel run with the same calls."""

    def __init__(self, model: CModel, count: int) -> None:
        self.model, self.count = model, count
        ffi, lib = model.ffi, model.lib
        self._mem = [ffi.new("char[]", lib.wn_state_size()) for _ in range(count)]
        self.states = [ffi.cast("wn_state *", m) for m in self._mem]
        self.array = ffi.new("wn_state *[]", self.states)
        for state in self.states:
            CModel._check(lib.wn_init(state), "wn_init")

    def reset(self, seeds: list[int], temperature: float = 1.0) -> None:
        for state, seed in zip(self.states, seeds, strict=True):
            CModel._check(self.model.lib.wn_set_temperature(state, temperature),
                          "wn_set_temperature")
            CModel._check(self.model.lib.wn_reset(state, seed), "wn_reset")

    def push_frame(self, mels: np.ndarray) -> None:
        """One mel frame per stream: mels [count, n_mels]."""
        mels = np.ascontiguousarray(mels, dtype=np.float32)
        for state, mel in zip(self.states, mels, strict=True):
            CModel._check(self.model.lib.wn_push_frame(
                state, self.model.ffi.from_buffer("float[]", mel)), "wn_push_frame")

    def generate(self, n: int) -> np.ndarray:
        """n samples on every stream: [count, n] PCM."""
        pcm = np.empty((self.count, n), np.int16)
        CModel._check(self.model.lib.wn_generate_batch(
            self.array, self.count, self.model.ffi.from_buffer("int16_t[]", pcm), n),
            "wn_generate_batch")
        return pcm

    def vocode(self, mels: np.ndarray, seeds: list[int], temperature: float = 1.0) -> np.ndarray:
        """CModel.vocode's PCM on every stream at once: mels [count, frames, n_mels] pushed in
        lockstep, the available samples generated together after each frame and flush."""
        lib = self.model.lib
        self.reset(seeds, temperature)
        parts = []
        for f in range(mels.shape[1]):
            self.push_frame(mels[:, f])
            if lib.wn_available(self.states[0]):
                parts.append(self.generate(lib.wn_available(self.states[0])))
        while True:
            ended = [lib.wn_flush(state) for state in self.states]
            if any(status not in (0, WN_END) for status in ended):
                raise RuntimeError(f"wn_flush returned {ended}")
            if ended[0] == WN_END:
                break
            parts.append(self.generate(lib.wn_available(self.states[0])))
        return np.concatenate(parts, axis=1) if parts else np.zeros((self.count, 0), np.int16)


"""Build an emitted project for its target and run ``wn_vocode`` under the target's emulator.

* bare metal (``[emulator] kind = "qemu-system"``): the ELF runs as
  ``qemu-system-arm -M BOARD -nographic -monitor none -serial none
  -semihosting-config enable=on,target=native,arg=wn_vocode,arg=... -kernel wn_vocode``; the
  program reads its command line, opens its input and output files relative to qemu's working
  directory and exits with main's status (runtime_c/boards/wn_startup_cm.c);
* Linux user mode (``qemu-user``): ``qemu-aarch64 -cpu CPU ./wn_vocode ...`` on a -static build;
* ``native``: the executable itself (after checking /proc/cpuinfo for the flags it needs).

Every run happens in a fresh work folder holding the input files and has a timeout. A run
*passes* when the exit status is 0, stdout ends with the PASS line wn_main.c prints, and each
expected output file exists with the expected size. A crash exits non-zero (the board's fault
handler leaves through semihosting with status 70), so it cannot look like success.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from wncc.errors import WnccError
from wncc import stack
from wncc.harness import class_of_pcm, header_macro
from wncc.targets import Target, load as load_target

DEFAULT_TIMEOUT = 600.0  # seconds per emulated run


@dataclasses.dataclass
class RunResult:
    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, bytes]  # output file name -> content (missing files are absent)
    seconds: float
    timed_out: bool = False

    @property
    def has_pass_line(self) -> bool:
        lines = [ln.strip() for ln in self.stdout.splitlines() if ln.strip()]
        return bool(lines) and lines[-1] == "PASS"

    def passed(self, sizes: dict[str, int] | None = None) -> bool:
        """Exit status 0, a final PASS line, and every output file present with its size."""
        if self.timed_out or self.returncode != 0 or not self.has_pass_line:
            return False
        for name, size in (sizes or {}).items():
            if name not in self.outputs or len(self.outputs[name]) != size:
                return False
        return True

    def describe(self) -> str:
        state = "timed out" if self.timed_out else f"exit status {self.returncode}"
        tail = (self.stderr.strip() or self.stdout.strip())[-500:]
        return f"{' '.join(self.command)}: {state}" + (f": {tail}" if tail else "")


def project_target(project: Path) -> Target:
    """The target a project was compiled for (report.json)."""
    try:
        name = json.loads((Path(project) / "report.json").read_text())["target"]
    except (OSError, KeyError, ValueError):
        raise WnccError("not a wncc project (no readable report.json)", path=str(project)) from None
    return load_target(name)


def require_tools(target: Target) -> None:
    """Raise a one-line error when the toolchain or emulator of a target is missing."""
    tools = [target.cc]
    if target.emulator != "native":
        tools.append(target.emulator_binary or "qemu-system-arm")
    for tool in tools:
        if shutil.which(tool) is None:
            raise WnccError(f"target '{target.name}' needs '{tool}', which is not installed "
                            "(see .ci/setup)")
    if target.emulator == "native" and target.cpu_flags:
        missing = [f for f in target.cpu_flags if f not in host_cpu_flags()]
        if missing:
            raise WnccError(f"target '{target.name}' runs natively but this CPU lacks "
                            f"{', '.join(missing)} (/proc/cpuinfo)")


def host_cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def elf_sizes(elf: Path, target: Target) -> dict[str, int]:
    """Berkeley sizes of the executable: flash = text + data, RAM = data + bss."""
    proc = subprocess.run([target.size, str(elf)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise WnccError(f"{target.size} failed: {proc.stderr.strip()}", path=str(elf))
    text, data, bss = (int(v) for v in proc.stdout.splitlines()[1].split()[:3])
    return {"text": text, "data": data, "bss": bss, "flash_bytes": text + data,
            "ram_bytes": data + bss}


def build(project: str | Path, target: Target | None = None, timeout: float = 900.0) -> Path:
    """``make wn_vocode`` in the project with its own Makefile (the target's toolchain), then
    record the executable's flash and RAM in report.json under "elf", the library's worst-case
    stack under "stack", and refuse a build whose RAM and stack exceed the target's RAM."""
    project = Path(project)
    target = target or project_target(project)
    require_tools(target)
    try:
        proc = subprocess.run(["make", "-s", "-j2", "-C", str(project), "wn_vocode"],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise WnccError(f"build for '{target.name}' timed out after {timeout:g} s",
                        path=str(project)) from None
    if proc.returncode != 0:
        raise WnccError(f"build for '{target.name}' failed: "
                        f"{(proc.stderr or proc.stdout).strip()[:2000]}", path=str(project))
    elf = project / "wn_vocode"
    sizes = elf_sizes(elf, target)
    worst = stack.measure(project, target.cc)
    sizes["ram_with_stack_bytes"] = sizes["ram_bytes"] + worst["bytes"]
    report_path = project / "report.json"
    if report_path.exists():
        rep = json.loads(report_path.read_text())
        rep["elf"] = {**sizes, "tool": target.size,
                      "note": "Berkeley sizes of wn_vocode (model, kernels, driver, C library); "
                              "ram_with_stack_bytes adds the library's worst-case stack"}
        rep["stack"] = worst
        report_path.write_text(json.dumps(rep, indent=2, sort_keys=True) + "\n")
    if target.ram_bytes and sizes["ram_with_stack_bytes"] > target.ram_bytes:
        raise WnccError(f"model does not fit target '{target.name}': {sizes['ram_bytes']:,} bytes "
                        f"of static RAM + {worst['bytes']:,} of stack > {target.ram_bytes:,}",
                        path=str(project))
    return elf


def command(target: Target, exe: Path, args: list[str]) -> list[str]:
    """The command line that runs exe with args under the target's emulator."""
    exe = Path(exe).resolve()
    if target.emulator == "qemu-system":
        semi = ["enable=on", "target=native", "arg=wn_vocode"]
        semi += [f"arg={a.replace(',', ',,')}" for a in args]
        return [target.emulator_binary or "qemu-system-arm", "-M", target.emulator_machine,
                "-nographic", "-monitor", "none", "-serial", "none",
                "-semihosting-config", ",".join(semi), "-kernel", str(exe)]
    if target.emulator == "qemu-user":
        return [target.emulator_binary, "-cpu", target.emulator_cpu, str(exe), *args]
    return [str(exe), *args]


def run(exe: str | Path, target: Target, args: list[str], inputs: dict[str, bytes] | None = None,
        outputs: list[str] | tuple[str, ...] = (), timeout: float = DEFAULT_TIMEOUT,
        workdir: str | Path | None = None) -> RunResult:
    """Run exe under the target's emulator in a work folder holding `inputs` (name -> bytes);
    collect the named output files."""
    require_tools(target)
    with tempfile.TemporaryDirectory(prefix="wncc-emu-") as tmp:
        work = Path(workdir) if workdir else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name, content in (inputs or {}).items():
            (work / name).write_bytes(content)
        for name in outputs:
            (work / name).unlink(missing_ok=True)
        cmd = command(target, Path(exe), list(args))
        start = time.monotonic()
        try:
            proc = subprocess.run(cmd, cwd=work, capture_output=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
            rc, out, err, timed_out = proc.returncode, proc.stdout, proc.stderr, False
        except subprocess.TimeoutExpired as exc:
            rc, out, err, timed_out = -9, exc.stdout or b"", exc.stderr or b"", True
        seconds = time.monotonic() - start
        got = {n: (work / n).read_bytes() for n in outputs if (work / n).exists()}
    return RunResult(cmd, rc, out.decode(errors="replace"), err.decode(errors="replace"), got,
                     seconds, timed_out)


class EmulatedModel:
    """A project built for its target, driven through wn_vocode under the emulator: the same
    teacher_forced / vocode results as harness.CModel, from files."""

    def __init__(self, project: str | Path, target: Target | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.project = Path(project)
        self.target = target or project_target(self.project)
        header = (self.project / "wn_model.h").read_text()
        self.hop = header_macro(header, "WN_HOP")
        self.n_mels = header_macro(header, "WN_N_MELS")
        self.outputs = header_macro(header, "WN_OUTPUTS")
        self.x_type = "<f4" if header_macro(header, "WN_INPUT_KIND") == 2 else "<i4"
        self.history_type = np.dtype("<i4" if header_macro(header, "WN_HEAD_KIND") == 0
                                     else "<f4")
        self.extra = -header_macro(header, "WN_FRAMES_DELTA")  # mel frames beyond the output's
        kind = header_macro(header, "WN_LOGIT_KIND")
        self.logit_dtype = np.dtype([np.float32, np.int8, np.int16][kind])
        self.timeout = timeout
        self.elf = build(self.project, self.target)
        self.runs: list[RunResult] = []
        self._class_of_pcm = class_of_pcm(header)

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.runs)

    def _run(self, args: list[str], inputs: dict[str, bytes], sizes: dict[str, int]
             ) -> dict[str, bytes]:
        """Run wn_vocode; the output files, each of its expected size."""
        res = run(self.elf, self.target, args, inputs, list(sizes), self.timeout)
        self.runs.append(res)
        if not res.passed(sizes):
            got = {name: len(res.outputs.get(name, b"")) for name in sizes}
            raise RuntimeError(f"emulated run failed ({got} of {sizes} output bytes): "
                               f"{res.describe()}")
        return res.outputs

    def teacher_forced(self, x: np.ndarray, mel: np.ndarray) -> np.ndarray:
        """Logits [T, outputs] from a fresh state; T is a whole number of frames."""
        x = np.asarray(x).reshape(-1)
        frames = math.ceil(x.size / self.hop)
        if frames * self.hop != x.size:
            raise ValueError(f"teacher forcing needs whole frames: {x.size} is not a multiple "
                             f"of {self.hop}")
        mel = np.ascontiguousarray(np.asarray(mel, np.float32)[:frames + self.extra])
        size = x.size * self.outputs * self.logit_dtype.itemsize
        data = self._run(["--logits", "mel.f32", "x.bin", "logits.bin"],
                         {"mel.f32": mel.astype("<f4").tobytes(),
                          "x.bin": x.astype(self.x_type).tobytes()},
                         {"logits.bin": size})["logits.bin"]
        return np.frombuffer(data, self.logit_dtype.newbyteorder("<")).reshape(x.size, self.outputs)

    def vocode(self, mel: np.ndarray, seed: int = 0, temperature: float = 1.0
               ) -> tuple[np.ndarray, np.ndarray]:
        """Free-running generation over mel frames [F, n_mels]: (history values, pcm); the
        classes of a categorical project without de-emphasis come from the PCM, the others'
        history from the file wn_vocode writes beside it."""
        mel = np.ascontiguousarray(np.asarray(mel, np.float32))
        n = max(mel.shape[0] - self.extra, 0) * self.hop
        args = ["mel.f32", "out.pcm", str(int(seed)), repr(float(temperature))]
        sizes = {"out.pcm": 2 * n}
        if not self._class_of_pcm:
            args.append("history.bin")
            sizes["history.bin"] = 4 * n
        files = self._run(args, {"mel.f32": mel.astype("<f4").tobytes()}, sizes)
        pcm = np.frombuffer(files["out.pcm"], "<i2").astype(np.int16)
        if self._class_of_pcm:
            return np.array([self._class_of_pcm[int(v)] for v in pcm], np.int64), pcm
        history = np.frombuffer(files["history.bin"], self.history_type)
        return history.astype(np.int64 if self.history_type.kind == "i" else np.float32), pcm

"""Instruction counting: the measurement layer of `wncc bench --target T`.

The machines have no hardware counters and wall time is noisy, so speed is measured in retired
guest instructions, which are exact and repeat run to run:

- ARM (qemu-user and qemu-system-arm): the project's own TCG plugin
  (runtime_c/tools/wn_insn_count.c, built by .ci/setup-qemu-plugin against qemu-plugin.h from
  Debian's qemu source package) counts every executed instruction, and those executed between the
  entry of a begin marker function and the entry of an end marker function (summed over every
  begin..end region).
- x86 / the host: valgrind's callgrind, `--toggle-collect=FUNC` for the instructions executed
  inside one function (inclusive of its callees).
- x86 code valgrind cannot run (AVX-512: valgrind 3.19 stops with SIGILL): the same count by
  single-stepping the function under ptrace (runtime_c/tools/wn_step_count.c, count_ptrace);
  it agrees with callgrind exactly where both run, and costs some microseconds per instruction.

QEMU models no cycles and no caches: these are instruction counts; any cycle figure derived from
them is an estimate.
"""

from __future__ import annotations

import bisect
import fnmatch
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from wncc.errors import WnccError
from wncc.resources import RUNTIME

ROOT = Path(__file__).resolve().parent.parent
SETUP_SCRIPT = ROOT / ".ci" / "setup-qemu-plugin"
PLUGIN_SOURCE = RUNTIME / "tools" / "wn_insn_count.c"
STEP_SOURCE = RUNTIME / "tools" / "wn_step_count.c"

EM_ARM = 40


@dataclass(frozen=True)
class Counts:
    """Executed instructions of one run.

    region_insns: inside the marker regions (qemu: from the begin marker's entry, inclusive, to the
    end marker's entry, exclusive, summed over regions; callgrind: inside the toggle function,
    inclusive of its callees). regions: how many regions closed (callgrind: calls of the toggle
    function). total_insns: everything the program executed (None when not measured)."""

    region_insns: int
    regions: int
    total_insns: int | None
    tool: str  # "qemu", "callgrind" or "ptrace"
    seconds: float = field(default=0.0, compare=False)  # wall time of the measured run(s)
    open_region: bool = False  # a begin marker was reached without its end before exit
    stray_begin: int = 0  # begin markers reached inside an open region (ignored)
    stray_end: int = 0  # end markers reached outside a region (ignored)
    stdout: str = field(default="", repr=False, compare=False)
    stderr: str = field(default="", repr=False, compare=False)
    # qemu with profile=True: instructions executed in each function over the whole run
    profile: dict[str, int] | None = field(default=None, repr=False, compare=False)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


@functools.lru_cache(maxsize=None)
def _plugin_path_cached() -> Path:
    override = os.environ.get("WNCC_QEMU_PLUGIN")
    if override:
        p = Path(override)
        if not p.is_file():
            raise WnccError(f"WNCC_QEMU_PLUGIN={override}: no such file")
        return p
    if not SETUP_SCRIPT.is_file():
        raise WnccError(f"{SETUP_SCRIPT}: missing; cannot build the qemu counting plugin")
    proc = subprocess.run(["bash", str(SETUP_SCRIPT)], capture_output=True, text=True)
    if proc.returncode != 0:
        msg = _last_line(proc.stderr) or f"exited with status {proc.returncode}"
        raise WnccError(f"cannot build the qemu counting plugin: {msg}")
    path = Path(_last_line(proc.stdout))
    if not path.is_file():
        raise WnccError(f"{SETUP_SCRIPT.name}: printed no plugin path")
    return path


_plugin_failure: WnccError | None = None


def plugin_path() -> Path:
    """The instruction-counting qemu plugin (.so), built on first use (cached under
    ~/.cache/wncc/qemu-plugin/). WNCC_QEMU_PLUGIN names a prebuilt one. Raises WnccError (one
    line) when qemu-plugin.h cannot be obtained or the build fails (remembered for the rest of
    the process: the fetch is not retried on every call)."""
    global _plugin_failure
    if _plugin_failure is not None and not os.environ.get("WNCC_QEMU_PLUGIN"):
        raise _plugin_failure
    try:
        return _plugin_path_cached()
    except WnccError as e:
        if not os.environ.get("WNCC_QEMU_PLUGIN"):
            _plugin_failure = e
        raise


def _elf_machine(elf: Path) -> int | None:
    try:
        head = elf.read_bytes()[:20]
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    order = "little" if head[5] == 1 else "big"
    return int.from_bytes(head[18:20], order)


def _readelf_symbols(elf: Path) -> list[list[str]]:
    """The defined symbols of an ELF as readelf -Ws rows: Num: Value Size Type Bind Vis Ndx Name."""
    readelf = shutil.which("readelf")
    if not readelf:
        raise WnccError("readelf is not installed (binutils)", path=str(elf))
    proc = subprocess.run([readelf, "-Ws", str(elf)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise WnccError(f"readelf failed: {_last_line(proc.stderr)}", path=str(elf))
    rows = (line.split() for line in proc.stdout.splitlines())
    return [r for r in rows if len(r) >= 8 and r[0].endswith(":") and r[6] != "UND"]


def _symbols(elf: Path) -> dict[str, list[int]]:
    """Defined symbols of an ELF by name (nm, else readelf)."""
    out: dict[str, list[int]] = {}
    nm = shutil.which("nm")
    if nm:
        proc = subprocess.run([nm, "--defined-only", str(elf)], capture_output=True, text=True)
        if proc.returncode == 0:
            for line in proc.stdout.splitlines():
                parts = line.split()
                if len(parts) == 3:
                    try:
                        out.setdefault(parts[2], []).append(int(parts[0], 16))
                    except ValueError:
                        pass
            return out
    for row in _readelf_symbols(elf):
        try:
            out.setdefault(row[7], []).append(int(row[1], 16))
        except ValueError:
            pass
    return out


def functions(elf: Path) -> list[tuple[int, int, str]]:
    """(start, end, name) of every function of an ELF with a size (readelf's FUNC symbols, Thumb
    bit cleared), by start address."""
    found = {(int(r[1], 16) & ~1, (int(r[1], 16) & ~1) + int(r[2], 0), r[7])
             for r in _readelf_symbols(elf) if r[3] == "FUNC" and int(r[2], 0) > 0}
    return sorted(found)


def profile_by_function(elf: Path, blocks: str) -> dict[str, int]:
    """The plugin's profile lines ("ADDR INSNS EXECUTIONS" per translated block) summed per
    function of ELF; blocks outside every function count as "(unknown)"."""
    funcs = functions(elf)
    starts = [f[0] for f in funcs]
    out: dict[str, int] = {}
    for line in blocks.splitlines():
        addr, insns, executions = line.split()
        a = int(addr, 16) & ~1
        i = bisect.bisect_right(starts, a) - 1
        name = funcs[i][2] if i >= 0 and a < funcs[i][1] else "(unknown)"
        out[name] = out.get(name, 0) + int(insns) * int(executions)
    return out


def resolve_address(elf: Path, what: str, symbols: dict[str, list[int]] | None = None) -> int:
    """An address given as a number (0x..., decimal) or a symbol name of ELF. Thumb bit cleared."""
    elf = Path(elf)
    try:
        addr = int(what, 0)
    except ValueError:
        syms = symbols if symbols is not None else _symbols(elf)
        found = sorted(set(syms.get(what, [])))
        if not found:
            raise WnccError(f"no symbol '{what}' (is the marker function defined and not inlined?)",
                            path=str(elf)) from None
        if len(found) > 1:
            raise WnccError(f"symbol '{what}' is defined {len(found)} times", path=str(elf))
        addr = found[0]
    if _elf_machine(elf) == EM_ARM:
        addr &= ~1
    return addr


def _opt_value(value: str) -> str:
    return value.replace(",", ",,")  # QemuOpts escapes a comma by doubling it


def plugin_spec(out: Path, begin: int | None = None, end: int | None = None,
                mode: str = "tb", plugin: Path | None = None, profile: Path | None = None) -> str:
    """The -plugin argument (QEMU 7.2 syntax: LIB,KEY=VALUE,...; `arg=` is deprecated there)."""
    lib = plugin or plugin_path()
    parts = [_opt_value(str(lib))]
    if begin is not None:
        parts += [f"begin={begin:#x}", f"end={end:#x}"]
    if mode != "tb":
        parts.append(f"mode={mode}")
    if profile is not None:
        parts.append(f"profile={_opt_value(str(profile))}")
    parts.append(f"out={_opt_value(str(out))}")
    return ",".join(parts)


def count_qemu(cmd: list[str], elf: Path, begin: str | None = None, end: str | None = None,
               cwd: str | Path | None = None, *, mode: str = "tb", timeout: float | None = None,
               check: bool = True, env: dict[str, str] | None = None,
               profile: bool = False) -> Counts:
    """Run a qemu command line (cmd[0] a dynamic qemu: qemu-aarch64, qemu-arm, qemu-system-arm)
    with the counting plugin; begin/end are marker symbols of ELF (or addresses), both or
    neither. mode "tb" (default, one add per translated block) or "insn" (one per instruction).
    A non-zero exit of qemu/the guest raises WnccError unless check=False. qemu-user passes ENV
    (default: this process's) to the guest: total_insns includes the C library's start-up, which
    reads the environment, so compare totals under the same environment; region counts do not
    depend on it. profile: also count the instructions of every function of ELF over the whole
    run (Counts.profile)."""
    if not cmd:
        raise WnccError("count_qemu: empty command")
    if (begin is None) != (end is None):
        raise WnccError("count_qemu: begin and end go together")
    if mode not in ("tb", "insn"):
        raise WnccError(f"count_qemu: mode {mode!r}: expected 'tb' or 'insn'")
    exe = shutil.which(cmd[0]) or cmd[0]
    if Path(exe).name.endswith("-static"):
        raise WnccError(f"{cmd[0]}: static qemu builds cannot load plugins; use the dynamic one "
                        f"({Path(exe).name[:-len('-static')]})")
    if shutil.which(cmd[0]) is None:
        raise WnccError(f"{cmd[0]}: not installed")
    elf = Path(elf)
    b = e = None
    if begin is not None:
        syms = None
        if not _is_number(begin) or not _is_number(end):
            syms = _symbols(elf)
        b = resolve_address(elf, begin, syms)
        e = resolve_address(elf, end, syms)
        if b == e:
            raise WnccError(f"begin '{begin}' and end '{end}' are the same address {b:#x}",
                            path=str(elf))
    lib = plugin_path()
    with tempfile.TemporaryDirectory(prefix="wncc-count-") as tmp:
        out, blocks = Path(tmp) / "counts.json", Path(tmp) / "blocks.txt"
        spec = plugin_spec(out, b, e, mode, lib, blocks if profile else None)
        full = [cmd[0], "-plugin", spec, *cmd[1:]]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(full, cwd=cwd, capture_output=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            raise WnccError(f"{cmd[0]}: timed out after {timeout} s") from None
        seconds = time.perf_counter() - t0
        stdout = proc.stdout.decode(errors="replace")
        stderr = proc.stderr.decode(errors="replace")
        if check and proc.returncode != 0:
            raise WnccError(f"{cmd[0]} exited with status {proc.returncode}: "
                            f"{_last_line(stderr) or '(no message)'}")
        if not out.is_file():
            raise WnccError(f"{cmd[0]}: the counting plugin wrote no counts "
                            f"({_last_line(stderr) or 'no message'})")
        data = json.loads(out.read_text())
        by_function = profile_by_function(elf, blocks.read_text()) if profile else None
    return Counts(region_insns=int(data["region_insns"]), regions=int(data["regions"]),
                  total_insns=int(data["total_insns"]), tool="qemu", seconds=seconds,
                  open_region=bool(data["open_region"]), stray_begin=int(data["stray_begin"]),
                  stray_end=int(data["stray_end"]), stdout=stdout, stderr=stderr,
                  profile=by_function)


def _is_number(s: str | None) -> bool:
    try:
        int(s, 0)  # type: ignore[arg-type]
        return True
    except (TypeError, ValueError):
        return False


_NAME_RE = re.compile(r"^\((\d+)\)(?: (.*))?$")
_RECURSION_SUFFIX = re.compile(r"'\d+$")


def parse_callgrind(text: str, toggle: str | None = None) -> tuple[int, int]:
    """(Ir total, calls of TOGGLE from outside it) from a callgrind output file. The total is the
    file's `totals:` line (else `summary:`, else the sum of cost lines); with --toggle-collect it
    is what was collected inside the function."""
    names: dict[str, str] = {}  # compressed function names: "(id) name" once, then "(id)"
    events: list[str] = ["Ir"]
    totals = summary = None
    calls = 0
    fn = ""
    cfn = ""
    pending_calls: int | None = None
    cost_sum = 0

    def name_of(value: str) -> str:
        m = _NAME_RE.match(value)
        if not m:
            return value
        if m.group(2) is not None:
            names[m.group(1)] = m.group(2)
            return m.group(2)
        return names.get(m.group(1), value)

    def is_toggle(name: str) -> bool:
        return toggle is not None and fnmatch.fnmatchcase(_RECURSION_SUFFIX.sub("", name), toggle)

    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        c = line[0]
        if c.isdigit() or c in "+-*":
            if pending_calls is not None:
                pending_calls = None  # the inclusive cost of the call: already in the callee
                continue
            parts = line.split()
            ir_col = 1 + events.index("Ir") if "Ir" in events else 1
            if len(parts) > ir_col:
                cost_sum += int(parts[ir_col])
            continue
        key, _, value = line.partition("=")
        if key == "fn":
            fn = name_of(value)
        elif key == "cfn":
            cfn = name_of(value)
        elif key == "calls":
            pending_calls = int(value.split()[0])
            if is_toggle(cfn) and not is_toggle(fn):
                calls += pending_calls
        elif line.startswith("events:"):
            events = line.split(":", 1)[1].split()
        elif line.startswith("totals:"):
            totals = int(line.split(":", 1)[1].split()[events.index("Ir") if "Ir" in events else 0])
        elif line.startswith("summary:"):
            summary = int(line.split(":", 1)[1].split()[events.index("Ir") if "Ir" in events else 0])
    total = totals if totals is not None else summary if summary is not None else cost_sum
    return total, calls


def count_callgrind(cmd: list[str], cwd: str | Path | None = None, toggle: str | None = None,
                    *, total: bool = False, timeout: float | None = None,
                    check: bool = True, env: dict[str, str] | None = None) -> Counts:
    """Run CMD (a host program) under valgrind's callgrind. With TOGGLE (a function name, glob
    allowed) region_insns counts the instructions executed inside it, callees included
    (--toggle-collect), and regions its calls; total_insns is measured only with total=True (a
    second, untoggled run) and is None otherwise. Without TOGGLE: one run, total_insns is
    everything, region_insns = regions = 0."""
    if not cmd:
        raise WnccError("count_callgrind: empty command")
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise WnccError("valgrind is not installed (apt-get install valgrind)")

    def run(toggle_fn: str | None) -> tuple[int, int, float, str, str]:
        with tempfile.TemporaryDirectory(prefix="wncc-callgrind-") as tmp:
            out = Path(tmp) / "callgrind.out"
            full = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}",
                    "--dump-line=no", "--dump-instr=no", "--compress-pos=no"]
            if toggle_fn is not None:
                full.append(f"--toggle-collect={toggle_fn}")
            full += list(cmd)
            t0 = time.perf_counter()
            try:
                proc = subprocess.run(full, cwd=cwd, capture_output=True, timeout=timeout, env=env)
            except subprocess.TimeoutExpired:
                raise WnccError(f"callgrind {cmd[0]}: timed out after {timeout} s") from None
            seconds = time.perf_counter() - t0
            stdout = proc.stdout.decode(errors="replace")
            stderr = proc.stderr.decode(errors="replace")
            if check and proc.returncode != 0:
                raise WnccError(f"{cmd[0]} under callgrind exited with status {proc.returncode}: "
                                f"{_last_line(stderr) or '(no message)'}")
            if not out.is_file():
                raise WnccError(f"callgrind wrote no output for {cmd[0]}: "
                                f"{_last_line(stderr) or '(no message)'}")
            ir, calls = parse_callgrind(out.read_text(errors="replace"), toggle_fn)
            return ir, calls, seconds, stdout, stderr

    if toggle is None:
        ir, _, seconds, stdout, stderr = run(None)
        return Counts(region_insns=0, regions=0, total_insns=ir, tool="callgrind",
                      seconds=seconds, stdout=stdout, stderr=stderr)
    region, calls, seconds, stdout, stderr = run(toggle)
    all_ir = None
    if total:
        all_ir, _, s2, _, _ = run(None)
        seconds += s2
    return Counts(region_insns=region, regions=calls, total_insns=all_ir, tool="callgrind",
                  seconds=seconds, stdout=stdout, stderr=stderr)


def valgrind_can_run(cpu_flags: tuple[str, ...] | list[str]) -> bool:
    """Whether callgrind can run code built for these CPU flags: valgrind (3.19) has no
    AVX-512 and stops with SIGILL on it."""
    return not any(f.startswith("avx512") for f in cpu_flags)


@functools.lru_cache(maxsize=None)
def step_counter_path() -> Path:
    """runtime_c/tools/wn_step_count.c built with the host's C compiler on first use, cached under
    ${XDG_CACHE_HOME:-~/.cache}/wncc/step-count/ by the hash of its source. x86-64 Linux only."""
    if platform.machine() not in ("x86_64", "AMD64"):
        raise WnccError(f"the ptrace step counter is for x86-64 hosts, not {platform.machine()}")
    source = STEP_SOURCE.read_bytes()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    exe = base / "wncc" / "step-count" / f"wn_step_count-{hashlib.sha256(source).hexdigest()[:16]}"
    if exe.is_file():
        return exe
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        raise WnccError("no host C compiler (cc) to build the ptrace step counter")
    exe.parent.mkdir(parents=True, exist_ok=True)
    tmp = exe.with_name(f"{exe.name}.{os.getpid()}.tmp")
    proc = subprocess.run([cc, "-std=c99", "-O2", str(STEP_SOURCE), "-o", str(tmp)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise WnccError(f"cannot build the ptrace step counter: {_last_line(proc.stderr)}")
    os.replace(tmp, exe)  # atomic: concurrent builders leave one complete file
    return exe


def count_ptrace(cmd: list[str], toggle: str, cwd: str | Path | None = None, *,
                 timeout: float | None = None, check: bool = True,
                 env: dict[str, str] | None = None) -> Counts:
    """Run CMD (a native x86-64 program, cmd[0] its ELF file) single-stepping every call of the
    function TOGGLE (a symbol name or an address of the ELF file): region_insns counts the
    instructions executed inside it, callees included, and regions its calls, as count_callgrind
    with toggle does (the same numbers), but for any instruction the CPU runs (callgrind's valgrind
    has no AVX-512). total_insns is not measured (None). Stepping costs a few microseconds per
    counted instruction; the rest of the program runs at full speed."""
    if not cmd:
        raise WnccError("count_ptrace: empty command")
    exe = Path(shutil.which(cmd[0]) or cmd[0])
    addr = resolve_address(exe, toggle)
    counter = step_counter_path()
    with tempfile.TemporaryDirectory(prefix="wncc-step-") as tmp:
        out = Path(tmp) / "counts.json"
        full = [str(counter), f"{addr:#x}", str(out), "--", str(exe), *cmd[1:]]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(full, cwd=cwd, capture_output=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            raise WnccError(f"{cmd[0]} under the step counter: timed out after {timeout} s") \
                from None
        seconds = time.perf_counter() - t0
        stdout = proc.stdout.decode(errors="replace")
        stderr = proc.stderr.decode(errors="replace")
        if not out.is_file():
            raise WnccError(f"the step counter wrote no counts for {cmd[0]}: "
                            f"{_last_line(stderr) or '(no message)'}")
        if check and proc.returncode != 0:
            raise WnccError(f"{cmd[0]} under the step counter exited with status "
                            f"{proc.returncode}: {_last_line(stderr) or '(no message)'}")
        data = json.loads(out.read_text())
    return Counts(region_insns=int(data["region_insns"]), regions=int(data["regions"]),
                  total_insns=None, tool="ptrace", seconds=seconds, stdout=stdout, stderr=stderr)

"""Worst-case stack depth of the emitted library, from the compiler's own data.

``make stack-usage`` compiles the library's sources with gcc's ``-fstack-usage
-fcallgraph-info=su``: every function's frame size (static, or dynamic but bounded) and its
calls. The worst case of an API function is its frame plus the deepest chain of calls below it.
The emitted C has no recursion, no function pointers and no variable-length arrays; a call graph
that shows one of them is reported as unbounded rather than guessed. Calls into the C library
(the compiler may insert memcpy/memset) have no stack data and are listed as such. On x86-64 a
leaf function may also use the 128-byte red zone below the stack pointer, which the frame sizes
leave out: it is added at the end of the chain.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from wncc.errors import WnccError

API = ("wn_init", "wn_reset", "wn_set_temperature", "wn_push_frame", "wn_flush", "wn_generate",
       "wn_step_logits")
_NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
_EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')
_FRAME = re.compile(r"\\n(\d+) bytes \(([a-z,]+)\)")


@dataclass
class CallGraph:
    frames: dict[str, int] = field(default_factory=dict)  # function -> frame bytes
    kinds: dict[str, str] = field(default_factory=dict)  # static / dynamic,bounded / dynamic
    calls: dict[str, set[str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # title -> plain function name


def parse(files: list[Path]) -> CallGraph:
    """Merge gcc's .ci files (VCG). Titles are 'file.c:name' for static functions and 'name' for
    external ones; an external function's frame comes from the file that defines it."""
    g = CallGraph()
    for path in files:
        text = path.read_text()
        for title, label in _NODE.findall(text):
            g.names[title] = label.split("\\n", 1)[0]
            m = _FRAME.search(label)
            if m:
                g.frames[title], g.kinds[title] = int(m.group(1)), m.group(2)
        for src, dst in _EDGE.findall(text):
            g.calls.setdefault(src, set()).add(dst)
    return g


def worst_case(g: CallGraph, entry: str, red_zone: int = 0
               ) -> tuple[int | None, list[str], list[str]]:
    """(bytes or None when unbounded, the deepest path, callees without stack data); a leaf
    function counts ``red_zone`` bytes more."""
    unknown: set[str] = set()

    @cache
    def depth(fn: str, chain: tuple[str, ...]) -> tuple[int | None, tuple[str, ...]]:
        if fn in chain:
            return None, chain + (fn,)  # recursion: no bound
        if fn not in g.frames:
            unknown.add(g.names.get(fn, fn))
            return 0, (fn,)
        if g.kinds[fn] == "dynamic":
            return None, (fn,)
        best, path = (0 if g.calls.get(fn) else red_zone), ()
        for callee in sorted(g.calls.get(fn, ())):
            d, p = depth(callee, chain + (fn,))
            if d is None:
                return None, (fn,) + p
            if d > best:
                best, path = d, p
        return g.frames[fn] + best, (fn,) + path

    total, path = depth(entry, ())
    return total, [g.names.get(t, t) for t in path], sorted(unknown)


def red_zone_bytes(cc: str) -> int:
    """The ABI's red zone below the stack pointer for the compiler's target: x86-64 SysV 128."""
    proc = subprocess.run([cc, "-dumpmachine"], capture_output=True, text=True)
    return 128 if proc.stdout.startswith("x86_64") else 0


def measure(project: Path, cc: str) -> dict:
    """Build the stack data in the project (``make stack-usage``) with its compiler ``cc`` and
    return report.json's "stack": the worst case over the API functions, per function, and how
    it was found."""
    proc = subprocess.run(["make", "-s", "-C", str(project), "stack-usage", f"CC={cc}"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise WnccError(f"stack analysis failed (gcc's -fcallgraph-info is needed): "
                        f"{(proc.stderr or proc.stdout).strip()[:500]}", path=str(project))
    g = parse(sorted((project / "stack").glob("*.ci")))
    red_zone = red_zone_bytes(cc)
    per_api, unknown, deepest = {}, set(), (0, [])
    for name in API:
        total, path, missing = worst_case(g, name, red_zone)
        if total is None:
            raise WnccError(f"{name}: unbounded stack (recursion or dynamic frame) via "
                            f"{' -> '.join(path)}", path=str(project))
        per_api[name] = total
        unknown.update(missing)
        deepest = max(deepest, (total, path))
    return {"bytes": deepest[0], "per_function": per_api, "deepest_path": deepest[1],
            "calls_without_stack_data": sorted(unknown), "red_zone_bytes": red_zone,
            "method": "gcc -fstack-usage -fcallgraph-info=su, deepest call chain per API "
                      "function, plus the ABI's red zone at its end"}

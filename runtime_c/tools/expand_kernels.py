"""Write the typed kernel files of runtime_c/ref from their templates, once, to be checked in.

The integer convolutions, the sparse matrix-vector kernels and the elementwise integer kernels are
written once for every type: a template (``kernels/*.inc``) uses WN_* macros for the types and the
type-specific steps, and an instance (``kernels/<file>.c.in``) defines them for one type, includes
the template and may add code of its own. This script expands the WN_* macros of each instance
into plain C, so that every kernel function the emitted C calls exists as text in runtime_c/ref
(``wn_conv_ring_s8``, ``wn_spmv_csr_s8`` ...), with no token pasting left for a reader or a
debugger to undo. Comments and string literals are copied as they are.

    python runtime_c/tools/expand_kernels.py          # rewrite runtime_c/ref/<file>.c
    python runtime_c/tools/expand_kernels.py --check  # exit 1 if a checked-in file differs

Only the macros an instance or its template defines are expanded (object-like and function-like,
with ``##`` pasting); every other name (WN_GUMBEL_BITS, ...) is left to the C preprocessor.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
KERNELS = HERE / "kernels"
REF = HERE.parent / "ref"

DEFINE = re.compile(r"^#define\s+(\w+)(\(([^)]*)\))?[ \t]*(.*)$")
INCLUDE = re.compile(r'^#include "(\w+\.inc)"$', re.M)
# comments and string/char literals (copied verbatim) or an identifier (maybe a macro)
LEXEME = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|[A-Za-z_]\w*',
                    re.S)


@dataclass(frozen=True)
class Macro:
    params: tuple[str, ...] | None  # None: object-like
    body: str


def _defines(text: str) -> tuple[str, dict[str, Macro]]:
    """The text without its #define lines (continuations joined), and the macros they define."""
    macros: dict[str, Macro] = {}
    kept: list[str] = []
    lines = iter(text.split("\n"))
    for line in lines:
        while line.endswith("\\"):
            line = line[:-1].rstrip() + " " + next(lines).strip()
        m = DEFINE.match(line)
        if not m:
            kept.append(line)
            continue
        params = tuple(p.strip() for p in m.group(3).split(",") if p.strip()) \
            if m.group(2) is not None else None
        macros[m.group(1)] = Macro(params, m.group(4).strip())
    return "\n".join(kept), macros


def _arguments(text: str, start: int) -> tuple[list[str], int]:
    """The comma-separated arguments of a call whose '(' is at text[start]; and the index after
    its ')'."""
    depth, args, current = 0, [], ""
    for i in range(start, len(text)):
        ch = text[i]
        if ch == "(":
            depth += 1
            if depth == 1:
                continue
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append(current.strip())
                return args, i + 1
        elif ch == "," and depth == 1:
            args.append(current.strip())
            current = ""
            continue
        current += ch
    raise ValueError(f"unbalanced macro call: {text[start:start + 40]!r}")


def _substitute(macro: Macro, args: list[str], macros: dict[str, Macro],
                disabled: frozenset[str]) -> str:
    """A function-like macro's body with its parameters replaced (an argument next to ## as
    written, elsewhere expanded first), then pasted."""
    assert macro.params is not None
    if len(args) != len(macro.params) and not (macro.params == () and args == [""]):
        raise ValueError(f"macro takes {len(macro.params)} arguments, got {args}")
    values = dict(zip(macro.params, args))
    body = macro.body

    def param(m: re.Match) -> str:
        name = m.group(0)
        if name not in values:
            return name
        pasted = body[:m.start()].rstrip().endswith("##") or body[m.end():].lstrip().startswith("##")
        return values[name] if pasted else expand(values[name], macros, disabled)

    return re.sub(r"\s*##\s*", "", re.sub(r"[A-Za-z_]\w*", param, body))


def expand(text: str, macros: dict[str, Macro], disabled: frozenset[str] = frozenset()) -> str:
    """text with every macro of `macros` expanded outside comments and literals."""
    out, pos = [], 0
    while True:
        m = LEXEME.search(text, pos)
        if m is None:
            return "".join(out) + text[pos:]
        out.append(text[pos:m.start()])
        name, pos = m.group(0), m.end()
        macro = macros.get(name) if name not in disabled else None
        if macro is None:
            out.append(name)
            continue
        inner = disabled | {name}
        if macro.params is None:
            out.append(expand(macro.body, macros, inner))
            continue
        paren = re.compile(r"\s*\(").match(text, pos)
        if paren is None:
            out.append(name)  # a function-like macro's name without a call
            continue
        args, pos = _arguments(text, paren.end() - 1)
        out.append(expand(_substitute(macro, args, macros, inner), macros, inner))


def _layout(text: str) -> str:
    """Expanded text tidied: a line inside an open parenthesis aligned after it (parameter and
    argument lists, whose first line changed length), a line a macro emptied removed, no
    trailing blanks, at most one empty line in a row."""
    code = LEXEME.sub(lambda m: m.group(0) if m.group(0)[0] not in "/\"'"
                      else re.sub(r"[^\n]", " ", m.group(0)), text)  # comments blanked
    lines, out, opened = text.split("\n"), [], []
    for line, bare in zip(lines, code.split("\n")):
        if opened and bare.strip():
            shift = opened[-1] + 1 - (len(line) - len(line.lstrip()))
            line, bare = (line[-shift:], bare[-shift:]) if shift < 0 else (" " * shift + line,
                                                                          " " * shift + bare)
        for col, ch in enumerate(bare):
            if ch == "(":
                opened.append(col)
            elif ch == ")" and opened:
                opened.pop()
        if out and out[-1].endswith("{") and line.strip() == "":
            continue
        out.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")


def render(instance: Path) -> str:
    """The plain C of one instance: its template included (less the comment on its macros),
    every WN_* macro expanded."""
    text, macros = _defines(instance.read_text())
    for name in INCLUDE.findall(text):
        template, more = _defines((KERNELS / name).read_text())
        macros.update(more)
        template = re.sub(r"^/\* Template:.*?\*/\n", "", template, flags=re.S)
        text = text.replace(f'#include "{name}"', template.rstrip("\n"))
    body = _layout(expand(text, macros))
    header = (f"/* Generated by runtime_c/tools/expand_kernels.py from "
              f"runtime_c/tools/kernels/{instance.name}: edit those and rerun it. */\n")
    return header + body + "\n"


def outputs() -> dict[Path, str]:
    """runtime_c/ref/<file>.c -> its text, for every instance."""
    return {REF / instance.name.removesuffix(".in"): render(instance)
            for instance in sorted(KERNELS.glob("*.c.in"))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when a checked-in file differs from its expansion")
    args = ap.parse_args()
    stale = [path for path, text in outputs().items()
             if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path}: differs from its expansion; run {Path(__file__).name}", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(outputs()[path])
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

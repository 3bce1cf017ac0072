"""Strings from a model file (and paths a user typed) made safe to print and to emit.

A model received from someone else must never write C, make or CMake code, nor break the one-line
error rule. Every such string goes through ``inert`` before it reaches an emitted comment, an
error message or the terminal: the result is printable ASCII on one line with no sequence that
ends or opens a comment, splices a line or forms a trigraph. Characters outside the safe set are
written as escapes (``\\n``, ``\\x1b``, ``\\u00e9``), so the text stays readable and two
different names stay different. report.json keeps the exact strings (JSON escapes them itself).
"""

from __future__ import annotations

import re

# printable ASCII except the backslash (a line splice before a newline, and the escape character)
_SAFE = frozenset(chr(c) for c in range(0x20, 0x7F)) - {"\\"}
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
# '*/' ends a C comment, '/*' opens a nested one (-Wcomment), '??' starts a trigraph ('??/' is a
# backslash); the second character of each is escaped
_PAIRS = re.compile(r"(?<=\*)/|(?<=/)\*|(?<=\?)\?")


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def inert(text: object) -> str:
    """``text`` as one line of printable ASCII that is inert in a C block comment, a ``//`` or
    ``#`` comment (C, make, CMake) and on a terminal."""
    # the backslash as \x5c: no output ends in a backslash (a line splice in C and make)
    out = "".join(ch if ch in _SAFE else "\\x5c" if ch == "\\" else _escape(ch)
                  for ch in str(text))
    return _PAIRS.sub(lambda m: _escape(m.group()), out)


def one_line(text: object) -> str:
    """``text`` for a terminal line: printable characters (non-ASCII letters included) stay,
    control and format characters (newlines, escape sequences, bidirectional overrides) and the
    backslash are escaped."""
    return "".join(ch if ch.isprintable() and ch != "\\" else _escape(ch) for ch in str(text))

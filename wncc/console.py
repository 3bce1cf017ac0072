"""Terminal output of the commands: stdout for results, stderr for progress and errors.

Progress is a spinner on a terminal; when stderr is redirected (a file, CI) it is one plain line
per step, so a long command is never silent.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

from rich.console import Console

from wncc.text import one_line

Update = Callable[[str], None]

out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True)


@contextlib.contextmanager
def progress(message: str) -> Iterator[Update]:
    """Progress on stderr; yields a function that reports a step. On a terminal: a spinner whose
    text changes; otherwise (redirected, CI) one plain line per step, flushed at once (so bad
    input that fails before the first step still prints one line, its error)."""
    if err.is_terminal:
        with err.status(message) as st:
            yield lambda text: st.update(one_line(f"{message}: {text}"))
        return

    def line(text: str) -> None:
        print(one_line(f"wncc: {message}: {text}"), file=sys.stderr, flush=True)

    yield line

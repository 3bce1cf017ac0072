"""Errors a user can meet. The CLI prints them as one line and exits 2; tracebacks are for bugs."""

from __future__ import annotations

from wncc.text import one_line


class WnccError(Exception):
    """Bad input: malformed model, unsupported op, non-causal graph, wrong shapes."""

    def __init__(self, message: str, node: str | None = None, path: str | None = None) -> None:
        self.node = node
        self.path = path
        where = []
        if path:
            where.append(str(path))
        if node:
            where.append(f"node '{node}'")
        prefix = ": ".join(where)
        # one line whatever the names: a model's strings may hold newlines or escape sequences
        super().__init__(one_line(f"{prefix}: {message}" if prefix else message))

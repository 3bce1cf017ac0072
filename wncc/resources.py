"""The data wncc ships beside its code: ``wncc/share/`` links to the checkout's top-level
templates/, runtime_c/ and targets/, and a wheel carries copies of them in the same place, so
an installed wncc and a source checkout find them alike."""

from __future__ import annotations

from pathlib import Path

SHARE = Path(__file__).resolve().parent / "share"
TEMPLATES = SHARE / "templates"
RUNTIME = SHARE / "runtime_c"
TARGETS = SHARE / "targets"
